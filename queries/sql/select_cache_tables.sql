-- Buffer-cache hits and disk reads per table (heap, indexes, TOAST) from pg_statio_user_tables.
SELECT s.schemaname AS schema_name,
       s.relname AS table_name,
       s.heap_blks_hit,
       s.heap_blks_read,
       s.heap_blks_hit::float8 / nullif(s.heap_blks_hit + s.heap_blks_read, 0) AS heap_hit_ratio,
       -- idx_* and toast_* are NULL for a table without indexes or without a TOAST table
       s.idx_blks_hit,
       s.idx_blks_read,
       s.idx_blks_hit::float8 / nullif(s.idx_blks_hit + s.idx_blks_read, 0) AS idx_hit_ratio,
       s.toast_blks_hit,
       s.toast_blks_read,
       s.toast_blks_hit::float8 / nullif(s.toast_blks_hit + s.toast_blks_read, 0) AS toast_hit_ratio,
       s.heap_blks_read + coalesce(s.idx_blks_read, 0) + coalesce(s.toast_blks_read, 0) + coalesce(s.tidx_blks_read, 0)
           AS total_blks_read
FROM pg_statio_user_tables s
ORDER BY s.heap_blks_read DESC, s.schemaname, s.relname
LIMIT :limit
