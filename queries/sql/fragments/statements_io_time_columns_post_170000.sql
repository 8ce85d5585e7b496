-- pg_stat_statements' block read / write time columns (PostgreSQL 17+: blk_*_time became shared_blk_*_time).
s.shared_blk_read_time AS io_read_time_ms, s.shared_blk_write_time AS io_write_time_ms
