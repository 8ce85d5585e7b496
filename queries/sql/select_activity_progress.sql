-- Running VACUUM, ANALYZE, CREATE INDEX and CLUSTER / VACUUM FULL with their phase and progress (pg_stat_progress_*).
-- Only columns present in PostgreSQL 14-18: 17 replaced the vacuum dead-tuple counters. No pg_stat_activity join:
-- queries/activity.py takes the session columns from its read of the sessions in the same transaction (the same
-- backend snapshot), which saves the join's planning on every refresh.
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
       p.progress_ratio
FROM progress p
LEFT JOIN pg_class c ON c.oid = p.relid AND p.datname = current_database()
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
