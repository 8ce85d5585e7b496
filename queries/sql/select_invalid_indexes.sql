-- Invalid indexes (pg_index.indisvalid = false) left by failed CREATE INDEX / REINDEX CONCURRENTLY, skipping builds in progress.
WITH invalid AS (
    SELECT i.indexrelid, i.indrelid, i.indisunique, c.relname AS index_name, n.nspname AS schema_name
    FROM pg_index i
    JOIN pg_class c ON c.oid = i.indexrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT i.indisvalid
      -- CREATE INDEX CONCURRENTLY keeps its index invalid until it finishes: that one is not broken
      AND NOT EXISTS (SELECT 1 FROM pg_stat_progress_create_index p WHERE p.index_relid = i.indexrelid)
), classified AS (
    SELECT v.*,
           -- REINDEX CONCURRENTLY names its copies <index>_ccnew[N] and <index>_ccold[N]
           CASE WHEN v.index_name ~ '_ccnew[0-9]*$' THEN 'ccnew'
                WHEN v.index_name ~ '_ccold[0-9]*$' THEN 'ccold'
                WHEN v.indisunique THEN 'unique'
                ELSE 'other'
           END AS kind
    FROM invalid v
)
SELECT v.schema_name,
       t.relname AS table_name,
       v.index_name,
       pg_relation_size(v.indexrelid) AS size_bytes,
       CASE v.kind
           WHEN 'ccnew' THEN 'the new copy left by a REINDEX CONCURRENTLY that failed; the original index is still in place, '
                             'so drop this copy (then run the REINDEX again if it is still needed)'
           WHEN 'ccold' THEN 'the old copy left by a REINDEX CONCURRENTLY that was interrupted after the new index took over; drop it'
           WHEN 'unique' THEN 'a CREATE UNIQUE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed, most often on duplicate values: '
                              'queries never use it but writes still update it; remove the duplicates, then rebuild it'
           ELSE 'a CREATE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed or was cancelled: '
                'queries never use it but writes still update it; rebuild it'
       END AS reason,
       CASE WHEN v.kind IN ('ccnew', 'ccold') THEN format('DROP INDEX CONCURRENTLY %I.%I;', v.schema_name, v.index_name)
            ELSE format('REINDEX INDEX CONCURRENTLY %I.%I;', v.schema_name, v.index_name)
       END AS fix_sql
FROM classified v
JOIN pg_class t ON t.oid = v.indrelid
ORDER BY v.schema_name, table_name, v.index_name
