-- Dead rows, vacuum / analyze history and the autovacuum trigger point per table from pg_stat_user_tables and pg_class.reloptions (PostgreSQL 18+: capped by autovacuum_vacuum_max_threshold).
WITH tables AS (
    SELECT s.*,
           -- the planner's row estimate drives autovacuum; -1 (never analyzed) counts as 0, as autovacuum.c does
           greatest(c.reltuples, 0)::float8 AS reltuples,
           o.enabled, o.vacuum_threshold, o.vacuum_scale_factor, o.vacuum_max_threshold
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
    -- per-table storage parameters override the server settings; most tables have none
    LEFT JOIN LATERAL (
        SELECT max(option_value) FILTER (WHERE option_name = 'autovacuum_enabled')::boolean AS enabled,
               max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_threshold')::float8 AS vacuum_threshold,
               max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_scale_factor')::float8 AS vacuum_scale_factor,
               max(option_value) FILTER (WHERE option_name = 'autovacuum_vacuum_max_threshold')::float8 AS vacuum_max_threshold
        FROM pg_options_to_table(c.reloptions)
    ) o ON c.reloptions IS NOT NULL
), base_thresholds AS (
    SELECT t.*,
           -- a negative storage parameter means "use the server setting", as in autovacuum.c
           CASE WHEN t.vacuum_threshold >= 0 THEN t.vacuum_threshold
                ELSE current_setting('autovacuum_vacuum_threshold')::float8 END
           + CASE WHEN t.vacuum_scale_factor >= 0 THEN t.vacuum_scale_factor
                  ELSE current_setting('autovacuum_vacuum_scale_factor')::float8 END * t.reltuples AS base_threshold_rows,
           -- autovacuum runs on a table only when the server-wide switch and the table's own are both on
           current_setting('autovacuum')::boolean AND coalesce(t.enabled, true) AS autovacuum_on
    FROM tables t
), thresholds AS (
    -- PostgreSQL 18 caps the computed threshold at autovacuum_vacuum_max_threshold (-1: no cap)
    SELECT b.*,
           CASE WHEN m.max_threshold >= 0 THEN least(b.base_threshold_rows, m.max_threshold)
                ELSE b.base_threshold_rows END AS threshold_rows
    FROM base_thresholds b
    CROSS JOIN LATERAL (
        SELECT CASE WHEN b.vacuum_max_threshold >= -1 THEN b.vacuum_max_threshold
                    ELSE current_setting('autovacuum_vacuum_max_threshold')::float8 END AS max_threshold
    ) m
)
SELECT schemaname AS schema_name,
       relname AS table_name,
       n_live_tup AS live_rows,
       n_dead_tup AS dead_rows,
       n_dead_tup::float8 / nullif(n_live_tup + n_dead_tup, 0) AS dead_row_ratio,
       last_vacuum,
       last_autovacuum,
       last_analyze,
       last_autoanalyze,
       vacuum_count,
       autovacuum_count,
       analyze_count,
       autoanalyze_count,
       n_mod_since_analyze AS rows_modified_since_analyze,
       floor(threshold_rows)::bigint AS autovacuum_threshold_rows,
       n_dead_tup > threshold_rows AS past_autovacuum_threshold,
       autovacuum_on AS autovacuum_enabled
FROM thresholds
WHERE NOT CAST(:past_threshold_only AS boolean) OR n_dead_tup > threshold_rows
ORDER BY n_dead_tup DESC, schemaname, relname
LIMIT :limit
