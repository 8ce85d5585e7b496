-- Per time bucket, the execution time of a target's top-level statements (pgpulse.statement_delta and its hourly roll-up).
WITH deltas AS (
    SELECT sampled_at, total_exec_time_ms FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND toplevel AND sampled_at >= :start AND sampled_at < :hours_from
    UNION ALL  -- complete hours rolled up: one row per statement and hour
    SELECT sampled_at, total_exec_time_ms FROM pgpulse.statement_delta_hourly
    WHERE target_id = :target_id AND toplevel AND sampled_at >= :hours_from AND sampled_at < :hours_to
    UNION ALL
    SELECT sampled_at, total_exec_time_ms FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND toplevel AND sampled_at >= :hours_to AND sampled_at < :end
)
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(total_exec_time_ms) AS total_exec_time_ms
FROM deltas
GROUP BY 1
ORDER BY 1
