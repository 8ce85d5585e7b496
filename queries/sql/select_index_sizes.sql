-- Size (main fork, as in table_sizes) and scan count of every user index (pg_class, pg_index, pg_relation_size, pg_stat_get_numscans).
-- The rows of pg_stat_user_indexes (see select_index_hit_ratio.sql for why relkind 'i' and the index's own schema
-- give the same rows). Every index is sized, since only exact sizes can rank them; the scan counter is read for
-- the listed ones only.
SELECT schema_name, table_name, index_name, size_bytes, pg_stat_get_numscans(oid) AS idx_scan
FROM (
    SELECT c.oid,
           n.nspname AS schema_name,
           t.relname AS table_name,
           c.relname AS index_name,
           pg_relation_size(c.oid) AS size_bytes
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_index i ON i.indexrelid = c.oid
    JOIN pg_class t ON t.oid = i.indrelid
    WHERE c.relkind = 'i'
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
    ORDER BY size_bytes DESC NULLS LAST, schema_name, table_name, index_name
    LIMIT :limit
) largest
ORDER BY size_bytes DESC NULLS LAST, schema_name, table_name, index_name
