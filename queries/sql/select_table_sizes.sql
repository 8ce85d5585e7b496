-- Heap, TOAST and index bytes of user tables, materialized views and partitioned tables (pg_class, pg_index, pg_relation_size).
-- Each relation is opened once per fork it can have; pg_total_relation_size + pg_table_size + pg_indexes_size
-- per row would open the TOAST table and every index again in each call, about twice the work.
-- Left out on purpose: index free-space maps and unlogged tables' empty init forks (small, one open each).
-- LATERAL subqueries over pg_index_indrelid_index keep row estimates exact, so no JIT compile on big catalogs.
SELECT schema_name, table_name, heap_bytes, toast_bytes, index_bytes,
       heap_bytes + toast_bytes + index_bytes AS total_bytes, estimated_rows
FROM (
    SELECT n.nspname AS schema_name,
           c.relname AS table_name,
           (pg_relation_size(c.oid, 'main') + pg_relation_size(c.oid, 'fsm') + pg_relation_size(c.oid, 'vm'))::bigint AS heap_bytes,
           CASE WHEN c.reltoastrelid = 0 THEN 0
                ELSE pg_relation_size(c.reltoastrelid, 'main') + pg_relation_size(c.reltoastrelid, 'fsm')
                     + pg_relation_size(c.reltoastrelid, 'vm') + coalesce(tx.bytes, 0)
           END::bigint AS toast_bytes,
           coalesce(x.bytes, 0)::bigint AS index_bytes,
           -- -1 means never vacuumed or analyzed (PostgreSQL 14+), not an empty table
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint END AS estimated_rows
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    LEFT JOIN LATERAL (SELECT sum(pg_relation_size(i.indexrelid)) AS bytes
                       FROM pg_index i WHERE i.indrelid = c.oid) x ON true
    LEFT JOIN LATERAL (SELECT sum(pg_relation_size(i.indexrelid)) AS bytes
                       FROM pg_index i WHERE i.indrelid = c.reltoastrelid) tx ON true
    WHERE c.relkind IN ('r', 'p', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
) sized
-- a relation dropped while we read the catalog has NULL sizes: it no longer takes space
WHERE heap_bytes IS NOT NULL
ORDER BY total_bytes DESC, schema_name, table_name
LIMIT :limit
