-- Indexes scanned at most :max_scans times since the statistics were reset (pg_stat_user_indexes, pg_index, pg_constraint).
WITH candidates AS (
    SELECT s.schemaname, s.relname, s.indexrelname, s.indexrelid, s.idx_scan, ic.relpages,
           count(*) OVER () AS unused_count  -- all of them, before LIMIT: the health check's number
    FROM pg_stat_user_indexes s
    JOIN pg_index i ON i.indexrelid = s.indexrelid
    JOIN pg_class ic ON ic.oid = s.indexrelid
    WHERE s.idx_scan <= :max_scans
      -- unique, primary-key and replica-identity indexes do work even when no query scans them
      AND NOT i.indisunique
      AND NOT i.indisprimary
      AND NOT i.indisreplident
      -- invalid indexes are listed by invalid_indexes with their own fix
      AND i.indisvalid
      -- backs a constraint (exclusion, or referenced by a foreign key): DROP INDEX would be refused
      AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
      -- a partition's copy of a partitioned index cannot be dropped on its own
      AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
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
