-- Each statement's figures summed over a time range: per collection at its edges, per hour in between (pgpulse.statement_delta, statement_delta_hourly, statement_text).
WITH deltas AS (
    SELECT * FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND (toplevel OR :include_nested) AND sampled_at >= :start AND sampled_at < :hours_from
    UNION ALL  -- complete hours rolled up: one row per statement and hour
    SELECT * FROM pgpulse.statement_delta_hourly
    WHERE target_id = :target_id AND (toplevel OR :include_nested) AND sampled_at >= :hours_from AND sampled_at < :hours_to
    UNION ALL
    SELECT * FROM pgpulse.statement_delta
    WHERE target_id = :target_id AND (toplevel OR :include_nested) AND sampled_at >= :hours_to AND sampled_at < :end
), per_statement AS (
    SELECT queryid,
           sum(calls)::bigint AS calls,
           sum(total_exec_time_ms) AS total_exec_time_ms,
           sum(total_plan_time_ms) AS total_plan_time_ms,
           sum(rows)::bigint AS rows,
           sum(shared_blks_hit)::bigint AS shared_blks_hit,
           sum(shared_blks_read)::bigint AS shared_blks_read,
           sum(io_read_time_ms + io_write_time_ms) AS io_time_ms,
           sum(temp_blks_read)::bigint AS temp_blks_read,
           sum(temp_blks_written)::bigint AS temp_blks_written,
           sum(wal_records)::bigint AS wal_records,
           sum(wal_bytes) AS wal_bytes
    FROM deltas
    GROUP BY queryid
), ranked AS (
    SELECT p.*,
           p.total_exec_time_ms / nullif(p.calls, 0) AS mean_exec_time_ms,
           p.shared_blks_hit::float8 / nullif(p.shared_blks_hit + p.shared_blks_read, 0) AS hit_ratio,
           p.total_exec_time_ms / nullif(sum(p.total_exec_time_ms) OVER (), 0) AS time_share_ratio
    FROM per_statement p
)
SELECT r.queryid, t.query, r.calls, r.total_exec_time_ms, r.mean_exec_time_ms, r.total_plan_time_ms, r.rows, r.hit_ratio,
       r.shared_blks_hit, r.shared_blks_read, r.io_time_ms, r.temp_blks_read, r.temp_blks_written, r.wal_records,
       r.wal_bytes, r.time_share_ratio, t.first_seen_at
FROM ranked r
LEFT JOIN pgpulse.statement_text t ON t.target_id = :target_id AND t.queryid = r.queryid
ORDER BY CASE :sort_by WHEN 'total_exec_time_ms' THEN r.total_exec_time_ms
                       WHEN 'mean_exec_time_ms' THEN r.mean_exec_time_ms
                       WHEN 'calls' THEN r.calls
                       WHEN 'rows' THEN r.rows
                       WHEN 'io_time_ms' THEN r.io_time_ms
                       WHEN 'temp_blks_written' THEN r.temp_blks_written
                       WHEN 'wal_bytes' THEN r.wal_bytes END DESC NULLS LAST,
         r.queryid
LIMIT :limit
