-- Rolls one day of statement deltas up to one row per hour and entry (pgpulse.statement_delta -> statement_delta_hourly).
INSERT INTO pgpulse.statement_delta_hourly
SELECT target_id, date_trunc('hour', sampled_at, 'UTC') AS sampled_at, sum(interval_s), dbid, userid, queryid, toplevel,
       sum(calls), sum(total_exec_time_ms), sum(total_plan_time_ms), sum(rows), sum(shared_blks_hit),
       sum(shared_blks_read), sum(shared_blks_dirtied), sum(shared_blks_written), sum(temp_blks_read),
       sum(temp_blks_written), sum(io_read_time_ms), sum(io_write_time_ms), sum(wal_records), sum(wal_bytes)
FROM pgpulse.statement_delta
WHERE sampled_at >= :day_start AND sampled_at < :day_end
GROUP BY target_id, date_trunc('hour', sampled_at, 'UTC'), dbid, userid, queryid, toplevel
