-- Indexes scanned at most :max_scans times since the statistics were reset (pg_class, pg_index, pg_constraint, pg_stat_get_numscans).
-- The rows of pg_stat_user_indexes (see select_index_hit_ratio.sql for why relkind 'i' and the index's own schema
-- give the same rows) that could be dropped, reading one counter per index instead of the view's four.
-- The OFFSET 0 fences keep the planner's guesses (a third of the rows pass a counter test, and so on) from making
-- it look up 20,000 pg_class rows one at a time: every join below hashes whole catalogs once.
WITH droppable AS (
    SELECT n.nspname::text AS schemaname,  -- text, not name (64 bytes): the rows stay small enough to count in memory
           t.relname::text AS relname,     -- name::text keeps the C collation, so the order does not change
           ic.relname::text AS indexrelname,
           i.indexrelid,
           ic.relpages
    FROM pg_class ic
    JOIN (SELECT i.indexrelid, i.indrelid
          FROM pg_index i
          -- unique, primary-key and replica-identity indexes do work even when no query scans them
          WHERE NOT i.indisunique
            AND NOT i.indisprimary
            AND NOT i.indisreplident
            -- invalid indexes are listed by invalid_indexes with their own fix
            AND i.indisvalid
            -- backs a constraint (exclusion, or referenced by a foreign key): DROP INDEX would be refused
            AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
          OFFSET 0) i ON i.indexrelid = ic.oid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = ic.relnamespace
    WHERE ic.relkind = 'i'
      -- a partition's copy of a partitioned index cannot be dropped on its own; relispartition is set exactly
      -- when pg_inherits links the index to its parent (and NOT EXISTS there rescans pg_inherits per index)
      AND NOT ic.relispartition
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
    OFFSET 0
), candidates AS (
    SELECT d.*, s.idx_scan,
           count(*) OVER () AS unused_count  -- all of them, before LIMIT: the health check's number
    FROM droppable d
    CROSS JOIN LATERAL (SELECT pg_stat_get_numscans(d.indexrelid) AS idx_scan) s
    WHERE s.idx_scan <= :max_scans
), largest AS (
    -- exact sizes cost a file lookup each: pick the top rows by relpages, then size only those
    SELECT * FROM candidates ORDER BY relpages DESC, schemaname, relname, indexrelname LIMIT :limit
)
SELECT c.schemaname AS schema_name,
       c.relname AS table_name,
       c.indexrelname AS index_name,
       c.idx_scan AS index_scans,
       c.unused_count,
       pg_relation_size(c.indexrelid) AS size_bytes,
       extract(epoch FROM now() - d.stats_reset)::float8 AS stats_reset_seconds,
       CASE WHEN c.idx_scan = 0 THEN 'never scanned'
            ELSE format('scanned only %s time(s)', c.idx_scan)
       END || ' since the statistics were reset; it is not unique and backs no constraint, '
           'so it only costs writes, vacuum time and disk' AS reason,
       format('DROP INDEX CONCURRENTLY %I.%I;', c.schemaname, c.indexrelname) AS fix_sql
FROM largest c
LEFT JOIN pg_stat_database d ON d.datname = current_database()
ORDER BY size_bytes DESC NULLS LAST, schema_name, table_name, index_name
LIMIT :limit
