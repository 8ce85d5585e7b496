-- Statements of the current database from pg_stat_statements (the I/O time columns by version: fragments/statements_io_time_columns).
WITH db_statements AS (
    SELECT s.*, {{statements_io_time_columns}}
    FROM pg_stat_statements s
    WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
), database_total AS (
    -- nested statements (track = all) are already inside their caller's time: count top level only
    SELECT nullif(sum(total_exec_time) FILTER (WHERE toplevel), 0) AS total_exec_time_ms
    FROM db_statements
)
SELECT s.queryid,
       s.query,
       r.rolname AS user_name,
       current_database() AS database_name,
       s.toplevel,
       s.calls,
       s.total_exec_time AS total_exec_time_ms,
       s.mean_exec_time AS mean_exec_time_ms,
       s.max_exec_time AS max_exec_time_ms,
       s.total_plan_time AS total_plan_time_ms,
       s.rows,
       s.rows::float8 / nullif(s.calls, 0) AS rows_per_call,
       s.shared_blks_hit,
       s.shared_blks_read,
       s.shared_blks_hit::float8 / nullif(s.shared_blks_hit + s.shared_blks_read, 0) AS hit_ratio,
       s.io_read_time_ms AS blk_read_time_ms,
       s.io_write_time_ms AS blk_write_time_ms,
       s.io_read_time_ms + s.io_write_time_ms AS io_time_ms,
       s.temp_blks_read,
       s.temp_blks_written,
       s.wal_bytes::float8 AS wal_bytes,
       -- a scalar subquery is an InitPlan, computed once: a join here let the planner, which
       -- expects one row from the function scan, re-aggregate the CTE for every statement
       100 * s.total_exec_time / (SELECT total_exec_time_ms FROM database_total) AS percent_of_total_time
FROM db_statements s
LEFT JOIN pg_roles r ON r.oid = s.userid
WHERE s.calls >= :min_calls
  -- statements run inside functions (track = all) are already in their caller's time
  AND (CAST(:include_nested AS boolean) OR s.toplevel)
  -- pgpulse's own statements carry a /* pgpulse */ mark (queries/sql_loader.py)
  AND (CAST(:include_own AS boolean) OR strpos(s.query, '/* pgpulse */') = 0)
  AND (CAST(:user_name AS text) IS NULL OR r.rolname = CAST(:user_name AS text))
  AND (CAST(:query_text AS text) IS NULL OR strpos(lower(s.query), lower(CAST(:query_text AS text))) > 0)
  -- asked for one route: the statements carrying a sqlcommenter route tag (matched decoded by the caller)
  AND (NOT CAST(:tagged_only AS boolean) OR strpos(s.query, 'route=''') > 0)
ORDER BY CASE CAST(:sort_by AS text)
             WHEN 'mean_exec_time_ms' THEN s.mean_exec_time
             WHEN 'calls' THEN s.calls
             WHEN 'rows' THEN s.rows
             WHEN 'io_time_ms' THEN s.io_read_time_ms + s.io_write_time_ms
             ELSE s.total_exec_time
         END DESC NULLS LAST,
         s.queryid
LIMIT :limit
