-- Buffer-cache hits and disk reads per table (heap, indexes, TOAST): pg_statio_user_tables' counters, read with pg_stat_get_blocks_* over pg_class.
-- The view reads every counter of every table, its indexes and its TOAST table before sorting (130 ms on
-- 10,000 tables); here only the heap counters that order the rows are read for every table, the rest for the top rows.
WITH top_tables AS (
    -- the rows of pg_statio_user_tables: tables, TOAST tables and materialized views outside the system schemas
    SELECT c.oid, n.nspname, c.relname,
           -- no TOAST table: NULL like the view's LEFT JOIN, not the zeros the functions return for oid 0
           nullif(c.reltoastrelid, 0) AS toast_oid,
           pg_stat_get_blocks_fetched(c.oid) - pg_stat_get_blocks_hit(c.oid) AS heap_blks_read
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 't', 'm')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
    ORDER BY heap_blks_read DESC, n.nspname, c.relname
    LIMIT :limit
), counters AS (
    SELECT t.nspname, t.relname, t.heap_blks_read,
           pg_stat_get_blocks_hit(t.oid) AS heap_blks_hit,
           i.idx_blks_read, i.idx_blks_hit,
           pg_stat_get_blocks_fetched(t.toast_oid) - pg_stat_get_blocks_hit(t.toast_oid) AS toast_blks_read,
           pg_stat_get_blocks_hit(t.toast_oid) AS toast_blks_hit,
           x.idx_blks_read AS tidx_blks_read
    FROM top_tables t
    -- summed over the table's indexes, and over its TOAST table's index; NULL when there are none
    CROSS JOIN LATERAL (
        SELECT sum(pg_stat_get_blocks_fetched(ix.indexrelid) - pg_stat_get_blocks_hit(ix.indexrelid))::bigint AS idx_blks_read,
               sum(pg_stat_get_blocks_hit(ix.indexrelid))::bigint AS idx_blks_hit
        FROM pg_index ix
        WHERE ix.indrelid = t.oid
    ) i
    CROSS JOIN LATERAL (
        SELECT sum(pg_stat_get_blocks_fetched(ix.indexrelid) - pg_stat_get_blocks_hit(ix.indexrelid))::bigint AS idx_blks_read
        FROM pg_index ix
        WHERE ix.indrelid = t.toast_oid
    ) x
)
SELECT nspname AS schema_name,
       relname AS table_name,
       heap_blks_hit,
       heap_blks_read,
       heap_blks_hit::float8 / nullif(heap_blks_hit + heap_blks_read, 0) AS heap_hit_ratio,
       -- idx_* and toast_* are NULL for a table without indexes or without a TOAST table
       idx_blks_hit,
       idx_blks_read,
       idx_blks_hit::float8 / nullif(idx_blks_hit + idx_blks_read, 0) AS idx_hit_ratio,
       toast_blks_hit,
       toast_blks_read,
       toast_blks_hit::float8 / nullif(toast_blks_hit + toast_blks_read, 0) AS toast_hit_ratio,
       heap_blks_read + coalesce(idx_blks_read, 0) + coalesce(toast_blks_read, 0) + coalesce(tidx_blks_read, 0) AS total_blks_read
FROM counters
ORDER BY heap_blks_read DESC, nspname, relname
