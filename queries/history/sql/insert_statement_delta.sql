-- One pg_stat_statements entry's counters over one interval (pgpulse.statement_delta).
INSERT INTO pgpulse.statement_delta (target_id, sampled_at, interval_s, dbid, userid, queryid, toplevel, calls,
    total_exec_time_ms, total_plan_time_ms, rows, shared_blks_hit, shared_blks_read, shared_blks_dirtied,
    shared_blks_written, temp_blks_read, temp_blks_written, io_read_time_ms, io_write_time_ms, wal_records, wal_bytes)
VALUES (:target_id, :sampled_at, :interval_s, :dbid, :userid, :queryid, :toplevel, :calls,
    :total_exec_time_ms, :total_plan_time_ms, :rows, :shared_blks_hit, :shared_blks_read, :shared_blks_dirtied,
    :shared_blks_written, :temp_blks_read, :temp_blks_written, :io_read_time_ms, :io_write_time_ms, :wal_records, :wal_bytes)
