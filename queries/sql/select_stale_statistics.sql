-- Tables whose rows changed more since their last ANALYZE than autovacuum's analyze threshold (pg_stat_get_mod_since_analyze against autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x reltuples, per-table reloptions honoured).
WITH settings AS MATERIALIZED (
    SELECT current_setting('autovacuum')::boolean AS autovacuum,
           current_setting('autovacuum_analyze_threshold')::float8 AS analyze_threshold,
           current_setting('autovacuum_analyze_scale_factor')::float8 AS analyze_scale_factor
), tables AS MATERIALIZED (
    -- tables and materialized views ANALYZE reads (TOAST tables have no statistics of their own)
    SELECT c.oid, n.nspname, c.relname, c.reloptions,
           -- -1 (never analyzed) counts as 0, as autovacuum.c does
           greatest(c.reltuples, 0)::float8 AS reltuples,
           pg_stat_get_mod_since_analyze(c.oid) AS modified
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema') AND n.nspname !~ '^pg_toast'
), options AS (
    -- per-table storage parameters override the server settings; most tables have none, and get no row here
    SELECT t.oid,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_enabled')::boolean AS enabled,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_threshold')::float8 AS analyze_threshold,
           max(o.option_value) FILTER (WHERE o.option_name = 'autovacuum_analyze_scale_factor')::float8 AS analyze_scale_factor
    FROM tables t
    CROSS JOIN LATERAL pg_options_to_table(t.reloptions) o
    GROUP BY t.oid
), thresholds AS (
    SELECT t.oid, t.nspname, t.relname, t.reltuples, t.modified,
           -- a negative storage parameter means "use the server setting", as in autovacuum.c
           CASE WHEN o.analyze_threshold >= 0 THEN o.analyze_threshold ELSE s.analyze_threshold END
           + CASE WHEN o.analyze_scale_factor >= 0 THEN o.analyze_scale_factor ELSE s.analyze_scale_factor END * t.reltuples
               AS threshold_rows,
           s.autovacuum AND coalesce(o.enabled, true) AS autovacuum_on
    FROM tables t
    CROSS JOIN settings s
    LEFT JOIN options o ON o.oid = t.oid
), shown AS (
    SELECT * FROM thresholds
    WHERE modified > threshold_rows
    ORDER BY modified / greatest(threshold_rows, 1) DESC, nspname, relname
    LIMIT :limit
)
SELECT nspname AS schema_name,
       relname AS table_name,
       reltuples::bigint AS estimated_rows,
       pg_stat_get_live_tuples(oid) AS live_rows,
       modified AS rows_modified_since_analyze,
       floor(threshold_rows)::bigint AS analyze_threshold_rows,
       modified / nullif(reltuples, 0) AS modified_ratio,
       -- the newest of a manual and an automatic ANALYZE; NULL: never analyzed since the statistics reset
       greatest(pg_stat_get_last_analyze_time(oid), pg_stat_get_last_autoanalyze_time(oid)) AS last_analyzed,
       autovacuum_on AS autovacuum_enabled,
       format('ANALYZE %I.%I', nspname, relname) AS fix_sql
FROM shown
ORDER BY modified / greatest(threshold_rows, 1) DESC, nspname, relname
