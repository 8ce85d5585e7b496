-- Buffer-cache hit ratio of all user indexes of the current database (pg_class, pg_stat_get_blocks_hit/_fetched).
-- pg_statio_user_indexes joins table, index and schema rows and makes three counter calls per index; this makes
-- two, over the index rows alone. Same rows: an index lives in its table's schema (ALTER INDEX cannot move it), and
-- relkind 'i' is exactly an index of a table, materialized view or TOAST table (the view's relkinds r, m, t);
-- partitioned indexes ('I') have no counters.
SELECT sum(pg_stat_get_blocks_hit(c.oid))::float8 / nullif(sum(pg_stat_get_blocks_fetched(c.oid)), 0) AS hit_ratio
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
WHERE c.relkind = 'i'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
