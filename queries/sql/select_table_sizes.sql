-- Heap, TOAST and index bytes of user tables, materialized views and partitioned tables (pg_class, pg_index, pg_relation_size).
-- Each relation file is statted once: heap forks, then the TOAST table with its index, then each index.
-- pg_total_relation_size + pg_table_size + pg_indexes_size per row would walk the same files three times.
WITH tables AS (
    SELECT c.oid, n.nspname, c.relname, c.reltoastrelid, c.reltuples
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
), index_totals AS (
    SELECT i.indrelid, sum(pg_table_size(i.indexrelid))::bigint AS index_bytes
    FROM pg_index i
    JOIN tables t ON t.oid = i.indrelid
    GROUP BY i.indrelid
), sized AS (
    SELECT t.nspname AS schema_name,
           t.relname AS table_name,
           (pg_relation_size(t.oid, 'main') + pg_relation_size(t.oid, 'fsm')
            + pg_relation_size(t.oid, 'vm') + pg_relation_size(t.oid, 'init'))::bigint AS heap_bytes,
           -- a TOAST table has no TOAST of its own: its total is its forks plus its one index
           coalesce(CASE WHEN t.reltoastrelid <> 0 THEN pg_total_relation_size(t.reltoastrelid) END, 0)::bigint AS toast_bytes,
           coalesce(x.index_bytes, 0)::bigint AS index_bytes,
           -- -1 means never vacuumed or analyzed (PostgreSQL 14+), not an empty table
           CASE WHEN t.reltuples >= 0 THEN t.reltuples::bigint END AS estimated_rows
    FROM tables t
    LEFT JOIN index_totals x ON x.indrelid = t.oid
)
SELECT schema_name, table_name, heap_bytes, toast_bytes, index_bytes,
       heap_bytes + toast_bytes + index_bytes AS total_bytes, estimated_rows
FROM sized
-- a relation dropped while we read the catalog has NULL sizes: it no longer takes space
WHERE heap_bytes IS NOT NULL
ORDER BY total_bytes DESC, schema_name, table_name
LIMIT :limit
