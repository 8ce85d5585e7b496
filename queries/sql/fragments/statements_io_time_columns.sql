-- pg_stat_statements' block read / write time columns (PostgreSQL 14-16 names).
s.blk_read_time AS io_read_time_ms, s.blk_write_time AS io_write_time_ms
