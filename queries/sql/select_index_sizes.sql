-- Size (main fork, as in table_sizes) and scan count of every user index, from pg_stat_user_indexes and pg_relation_size.
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.indexrelname AS index_name,
       pg_relation_size(s.indexrelid) AS size_bytes,
       s.idx_scan
FROM pg_stat_user_indexes s
ORDER BY size_bytes DESC NULLS LAST, schema_name, table_name, index_name
LIMIT :limit
