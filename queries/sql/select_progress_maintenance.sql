-- Running VACUUM, ANALYZE, CREATE INDEX and CLUSTER / VACUUM FULL with their phase and progress (pg_stat_progress_*, pg_stat_activity).
-- Only columns present in PostgreSQL 14-18: 17 replaced the vacuum dead-tuple counters.
WITH progress AS (
    SELECT p.pid, 'vacuum' AS operation, p.datname, p.relid, p.phase,
           CASE WHEN p.phase = 'vacuuming heap' THEN p.heap_blks_vacuumed ELSE p.heap_blks_scanned END::float8
               / nullif(p.heap_blks_total, 0) AS progress_ratio
    FROM pg_stat_progress_vacuum p
    UNION ALL
    SELECT p.pid, 'analyze', p.datname, p.relid, p.phase,
           p.sample_blks_scanned::float8 / nullif(p.sample_blks_total, 0)
    FROM pg_stat_progress_analyze p
    UNION ALL
    SELECT p.pid, 'create index', p.datname, p.relid, p.phase,
           p.blocks_done::float8 / nullif(p.blocks_total, 0)
    FROM pg_stat_progress_create_index p
    UNION ALL
    SELECT p.pid, lower(p.command), p.datname, p.relid, p.phase,  -- 'cluster' or 'vacuum full'
           p.heap_blks_scanned::float8 / nullif(p.heap_blks_total, 0)
    FROM pg_stat_progress_cluster p
)
SELECT p.pid,
       p.operation,
       p.datname AS database_name,
       -- relation OIDs only resolve in their own database
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       p.phase,
       p.progress_ratio,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS started_seconds,
       a.backend_type,
       a.query
FROM progress p
LEFT JOIN pg_stat_activity a ON a.pid = p.pid
LEFT JOIN pg_class c ON c.oid = p.relid AND p.datname = current_database()
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY started_seconds DESC NULLS LAST, p.pid
