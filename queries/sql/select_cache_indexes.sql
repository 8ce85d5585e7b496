-- Buffer-cache hits and disk reads per index from pg_statio_user_indexes.
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.indexrelname AS index_name,
       s.idx_blks_hit,
       s.idx_blks_read,
       s.idx_blks_hit::float8 / nullif(s.idx_blks_hit + s.idx_blks_read, 0) AS hit_ratio
FROM pg_statio_user_indexes s
ORDER BY s.idx_blks_read DESC, s.schemaname, s.relname, s.indexrelname
LIMIT :limit
