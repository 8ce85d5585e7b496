-- Buffer-cache hits and disk reads per index: pg_statio_user_indexes' counters, read with pg_stat_get_blocks_* over pg_index and pg_class.
-- The view joins all of pg_class a second time for the index names (60 ms on 30,000 indexes); here the read count
-- that orders the rows is computed for every index, and the names are looked up for the top rows only.
WITH top_indexes AS MATERIALIZED (
    -- the rows of pg_statio_user_indexes: indexes of tables, TOAST tables and materialized views outside the system schemas
    SELECT c.oid AS relid, n.nspname, c.relname, x.indexrelid,
           pg_stat_get_blocks_fetched(x.indexrelid) - pg_stat_get_blocks_hit(x.indexrelid) AS idx_blks_read
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    JOIN pg_index x ON x.indrelid = c.oid
    WHERE c.relkind IN ('r', 't', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
    ORDER BY idx_blks_read DESC, n.nspname, c.relname, x.indexrelid
    LIMIT :limit
), candidates AS (
    SELECT t.nspname, t.relname, t.indexrelid, t.idx_blks_read
    FROM top_indexes t
    UNION
    -- indexes of one table with equal read counts are shown in name order, but the rows above were cut by oid:
    -- the other indexes of their tables with the same count compete for the last places
    SELECT t.nspname, t.relname, x.indexrelid, t.idx_blks_read
    FROM top_indexes t
    JOIN pg_index x ON x.indrelid = t.relid
    WHERE pg_stat_get_blocks_fetched(x.indexrelid) - pg_stat_get_blocks_hit(x.indexrelid) = t.idx_blks_read
)
SELECT s.nspname AS schema_name,
       s.relname AS table_name,
       i.relname AS index_name,
       pg_stat_get_blocks_hit(s.indexrelid) AS idx_blks_hit,
       s.idx_blks_read,
       pg_stat_get_blocks_hit(s.indexrelid)::float8 / nullif(pg_stat_get_blocks_hit(s.indexrelid) + s.idx_blks_read, 0) AS hit_ratio
FROM candidates s
JOIN pg_class i ON i.oid = s.indexrelid
ORDER BY s.idx_blks_read DESC, s.nspname, s.relname, i.relname
LIMIT :limit
