-- Statements whose mean time rose against the previous window of the same length, and statements new in this window (pgpulse.statement_delta, statement_text, statement_collection).
WITH deltas AS (
    SELECT * FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND sampled_at >= :previous_start AND sampled_at < :end AND toplevel
    UNION ALL
    SELECT * FROM pgpulse.statement_delta_hourly
    WHERE target_id = :target_id AND sampled_at >= :previous_start AND sampled_at < :end AND toplevel
), per_statement AS (
    SELECT queryid,
           sum(calls) FILTER (WHERE sampled_at >= :start)::bigint AS calls,
           sum(total_exec_time_ms) FILTER (WHERE sampled_at >= :start) AS total_exec_time_ms,
           sum(calls) FILTER (WHERE sampled_at < :start)::bigint AS previous_calls,
           sum(total_exec_time_ms) FILTER (WHERE sampled_at < :start) AS previous_total_exec_time_ms
    FROM deltas
    GROUP BY queryid
), compared AS (
    SELECT p.queryid, t.query, t.first_seen_at, p.calls, p.total_exec_time_ms,
           p.total_exec_time_ms / nullif(p.calls, 0) AS mean_exec_time_ms,
           p.previous_total_exec_time_ms / nullif(p.previous_calls, 0) AS previous_mean_exec_time_ms,
           coalesce(p.previous_calls, 0) AS previous_calls
    FROM per_statement p
    LEFT JOIN pgpulse.statement_text t ON t.target_id = :target_id AND t.queryid = p.queryid
    WHERE p.calls >= :min_calls
)
SELECT queryid, query,
       CASE WHEN previous_calls = 0 THEN 'new' ELSE 'slower' END AS change,
       calls, total_exec_time_ms, mean_exec_time_ms, previous_mean_exec_time_ms,
       mean_exec_time_ms / nullif(previous_mean_exec_time_ms, 0) AS mean_time_ratio
FROM compared
WHERE (previous_calls > 0 AND mean_exec_time_ms >= :min_ratio * previous_mean_exec_time_ms)
   OR (previous_calls = 0 AND first_seen_at >= :start
       AND EXISTS (SELECT FROM pgpulse.statement_collection c
                   WHERE c.target_id = :target_id AND c.sampled_at >= :previous_start AND c.sampled_at < :start))
ORDER BY change DESC, mean_time_ratio DESC NULLS LAST, total_exec_time_ms DESC, queryid
