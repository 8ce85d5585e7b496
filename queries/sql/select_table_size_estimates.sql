-- Estimated heap, TOAST and index bytes of user tables from pg_class.relpages (no file stat, no relation lock).
-- relpages is refreshed by VACUUM, ANALYZE and CREATE INDEX, so this is as fresh as the last of those.
WITH tables AS (
    SELECT c.oid, n.nspname, c.relname, c.relpages, c.reltoastrelid, c.reltuples
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
), index_pages AS (
    -- grouped over every table, TOAST tables included, so each TOAST table finds its index here too
    SELECT i.indrelid, sum(ic.relpages)::bigint AS pages
    FROM pg_index i
    JOIN pg_class ic ON ic.oid = i.indexrelid
    GROUP BY i.indrelid
), sized AS (
    SELECT t.nspname AS schema_name,
           t.relname AS table_name,
           t.relpages::bigint * b.block_bytes AS heap_bytes,
           (coalesce(tc.relpages, 0) + coalesce(tx.pages, 0))::bigint * b.block_bytes AS toast_bytes,
           coalesce(x.pages, 0) * b.block_bytes AS index_bytes,
           CASE WHEN t.reltuples >= 0 THEN t.reltuples::bigint END AS estimated_rows
    FROM tables t
    CROSS JOIN (SELECT current_setting('block_size')::bigint AS block_bytes) b
    LEFT JOIN index_pages x ON x.indrelid = t.oid
    LEFT JOIN pg_class tc ON tc.oid = t.reltoastrelid
    LEFT JOIN index_pages tx ON tx.indrelid = t.reltoastrelid
)
SELECT schema_name, table_name, heap_bytes, toast_bytes, index_bytes,
       heap_bytes + toast_bytes + index_bytes AS total_bytes, estimated_rows
FROM sized
ORDER BY total_bytes DESC, schema_name, table_name
LIMIT :limit
