-- A late delta (written after its hour was rolled up) added to that hour too (pgpulse.statement_delta_hourly).
INSERT INTO pgpulse.statement_delta_hourly (target_id, sampled_at, interval_s, dbid, userid, queryid, toplevel, calls,
    total_exec_time_ms, total_plan_time_ms, rows, shared_blks_hit, shared_blks_read, shared_blks_dirtied,
    shared_blks_written, temp_blks_read, temp_blks_written, io_read_time_ms, io_write_time_ms, wal_records, wal_bytes)
VALUES (:target_id, date_trunc('hour', CAST(:sampled_at AS timestamptz), 'UTC'), :interval_s, :dbid, :userid, :queryid,
    :toplevel, :calls, :total_exec_time_ms, :total_plan_time_ms, :rows, :shared_blks_hit, :shared_blks_read,
    :shared_blks_dirtied, :shared_blks_written, :temp_blks_read, :temp_blks_written, :io_read_time_ms, :io_write_time_ms,
    :wal_records, :wal_bytes)
