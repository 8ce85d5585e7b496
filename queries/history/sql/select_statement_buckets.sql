-- Per time bucket and statement, the stored deltas of the given queryids summed (pgpulse.statement_delta and its hourly roll-up).
WITH deltas AS (
    SELECT * FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND queryid = ANY(CAST(:queryids AS bigint[])) AND (toplevel OR :include_nested) AND sampled_at >= :start AND sampled_at < :hours_from
    UNION ALL  -- complete hours rolled up: one row per statement and hour
    SELECT * FROM pgpulse.statement_delta_hourly
    WHERE target_id = :target_id AND queryid = ANY(CAST(:queryids AS bigint[])) AND (toplevel OR :include_nested) AND sampled_at >= :hours_from AND sampled_at < :hours_to
    UNION ALL
    SELECT * FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND queryid = ANY(CAST(:queryids AS bigint[])) AND (toplevel OR :include_nested) AND sampled_at >= :hours_to AND sampled_at < :end
)
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       queryid,
       sum(calls)::bigint AS calls,
       sum(total_exec_time_ms) AS total_exec_time_ms,
       sum(rows)::bigint AS rows,
       sum(shared_blks_hit)::bigint AS shared_blks_hit,
       sum(shared_blks_read)::bigint AS shared_blks_read,
       sum(temp_blks_read)::bigint AS temp_blks_read,
       sum(temp_blks_written)::bigint AS temp_blks_written,
       sum(wal_bytes) AS wal_bytes
FROM deltas
GROUP BY 1, 2
ORDER BY 1, 2
