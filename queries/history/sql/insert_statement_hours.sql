-- Rolls every target's complete hours past its watermark up to one row per hour and entry (pgpulse.statement_delta -> statement_delta_hourly).
INSERT INTO pgpulse.statement_delta_hourly
SELECT d.target_id, date_trunc('hour', d.sampled_at, 'UTC') AS sampled_at, sum(d.interval_s), d.dbid, d.userid, d.queryid,
       d.toplevel, sum(d.calls), sum(d.total_exec_time_ms), sum(d.total_plan_time_ms), sum(d.rows), sum(d.shared_blks_hit),
       sum(d.shared_blks_read), sum(d.shared_blks_dirtied), sum(d.shared_blks_written), sum(d.temp_blks_read),
       sum(d.temp_blks_written), sum(d.io_read_time_ms), sum(d.io_write_time_ms), sum(d.wal_records), sum(d.wal_bytes)
FROM pgpulse.statement_delta d
LEFT JOIN pgpulse.rollup_watermark w ON w.target_id = d.target_id
WHERE d.sampled_at < :until AND d.sampled_at >= coalesce(w.rolled_until, '-infinity')
GROUP BY d.target_id, date_trunc('hour', d.sampled_at, 'UTC'), d.dbid, d.userid, d.queryid, d.toplevel
