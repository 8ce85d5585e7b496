-- Dead rows, vacuum / analyze history and the autovacuum trigger point per table: pg_stat_user_tables' counters read with pg_stat_get_* over pg_class, and pg_class.reloptions (from PostgreSQL 18 capped by autovacuum_vacuum_max_threshold).
-- The view reads some 25 counters of every table and joins pg_index before anything is filtered (80 ms on 10,000
-- tables): here only the dead-row count that filters and orders the rows is read for every table, the rest for the rows shown.
WITH settings AS MATERIALIZED (
    -- read once, not once per table
    SELECT current_setting('autovacuum')::boolean AS autovacuum,
           current_setting('autovacuum_vacuum_threshold')::float8 AS vacuum_threshold,
           current_setting('autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale_factor,
           -- autovacuum_vacuum_max_threshold is new in PostgreSQL 18: before it, -1 (no cap) as 18 means by -1
           coalesce(current_setting('autovacuum_vacuum_max_threshold', true)::float8, -1) AS vacuum_max_threshold
), tables AS MATERIALIZED (
    -- the rows of pg_stat_user_tables: tables, TOAST tables, materialized views and partitioned tables outside the system schemas
    SELECT c.oid, n.nspname, c.relname, c.reloptions,
           -- the planner's row estimate drives autovacuum; -1 (never analyzed) counts as 0, as autovacuum.c does
           greatest(c.reltuples, 0)::float8 AS reltuples,
           pg_stat_get_dead_tuples(c.oid) AS n_dead_tup
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 't', 'm', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
), options AS (
    -- per-table storage parameters override the server settings; most tables have none, and get no row here
    SELECT t.oid,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_enabled')::boolean AS enabled,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_threshold')::float8 AS vacuum_threshold,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale_factor,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_vacuum_max_threshold')::float8 AS vacuum_max_threshold
    FROM tables t
    CROSS JOIN LATERAL pg_options_to_table(t.reloptions) o
    GROUP BY t.oid
), base_thresholds AS (
    SELECT t.oid, t.nspname, t.relname, t.n_dead_tup,
           -- a negative storage parameter means "use the server setting", as in autovacuum.c
           CASE WHEN o.vacuum_threshold >= 0 THEN o.vacuum_threshold ELSE s.vacuum_threshold END
           + CASE WHEN o.vacuum_scale_factor >= 0 THEN o.vacuum_scale_factor ELSE s.vacuum_scale_factor END * t.reltuples
               AS base_threshold_rows,
           -- PostgreSQL 18 caps the computed threshold at autovacuum_vacuum_max_threshold (-1: no cap)
           CASE WHEN o.vacuum_max_threshold >= -1 THEN o.vacuum_max_threshold ELSE s.vacuum_max_threshold END AS max_threshold,
           -- autovacuum runs on a table only when the server-wide switch and the table's own are both on
           s.autovacuum AND coalesce(o.enabled, true) AS autovacuum_on
    FROM tables t
    CROSS JOIN settings s
    LEFT JOIN options o ON o.oid = t.oid
), thresholds AS (
    SELECT b.oid, b.nspname, b.relname, b.n_dead_tup, b.autovacuum_on,
           CASE WHEN b.max_threshold >= 0 THEN least(b.base_threshold_rows, b.max_threshold)
                ELSE b.base_threshold_rows END AS threshold_rows
    FROM base_thresholds b
), shown AS (
    SELECT t.*
    FROM thresholds t
    WHERE NOT CAST(:past_threshold_only AS boolean) OR t.n_dead_tup > t.threshold_rows
    ORDER BY t.n_dead_tup DESC, t.nspname, t.relname
    LIMIT :limit
)
SELECT nspname AS schema_name,
       relname AS table_name,
       pg_stat_get_live_tuples(oid) AS live_rows,
       n_dead_tup AS dead_rows,
       n_dead_tup::float8 / nullif(pg_stat_get_live_tuples(oid) + n_dead_tup, 0) AS dead_row_ratio,
       pg_stat_get_last_vacuum_time(oid) AS last_vacuum,
       pg_stat_get_last_autovacuum_time(oid) AS last_autovacuum,
       pg_stat_get_last_analyze_time(oid) AS last_analyze,
       pg_stat_get_last_autoanalyze_time(oid) AS last_autoanalyze,
       pg_stat_get_vacuum_count(oid) AS vacuum_count,
       pg_stat_get_autovacuum_count(oid) AS autovacuum_count,
       pg_stat_get_analyze_count(oid) AS analyze_count,
       pg_stat_get_autoanalyze_count(oid) AS autoanalyze_count,
       pg_stat_get_mod_since_analyze(oid) AS rows_modified_since_analyze,
       floor(threshold_rows)::bigint AS autovacuum_threshold_rows,
       n_dead_tup > threshold_rows AS past_autovacuum_threshold,
       autovacuum_on AS autovacuum_enabled
FROM shown
ORDER BY n_dead_tup DESC, nspname, relname
