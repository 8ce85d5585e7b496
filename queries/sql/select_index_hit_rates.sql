-- Buffer-cache hits and disk reads of each user index since the statistics were reset (pg_statio_user_indexes).
SELECT schemaname AS schema_name,
       relname AS table_name,
       indexrelname AS index_name,
       idx_blks_hit,
       idx_blks_read,
       idx_blks_hit::float8 / nullif(idx_blks_hit + idx_blks_read, 0) AS hit_ratio
FROM pg_statio_user_indexes
-- the indexes that sent the most reads to disk first: those are the ones that hurt
ORDER BY idx_blks_read DESC, hit_ratio NULLS LAST, schema_name, table_name, index_name
LIMIT :limit
