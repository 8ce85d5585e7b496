-- Columns of the current database's user tables (pg_attribute) with pg_stats' n_distinct, width, null share and most common value, and each table's rows and writes (pg_class, pg_stat_get_*).
WITH tables AS (
    SELECT c.oid, n.nspname, c.relname,
           -- reltuples is -1 until the first VACUUM/ANALYZE; the live-row counter fills the gap
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE pg_stat_get_live_tuples(c.oid) END AS estimated_rows,
           pg_stat_get_tuples_inserted(c.oid) + pg_stat_get_tuples_updated(c.oid)
               + pg_stat_get_tuples_deleted(c.oid) AS writes
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE c.relkind IN ('r', 'm', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
), counted_since AS (
    SELECT extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 AS seconds
    FROM pg_stat_database WHERE datname = current_database()
)
SELECT t.nspname AS schema_name,
       t.relname AS table_name,
       a.attname::text AS column_name,
       format_type(a.atttypid, a.atttypmod) AS data_type,
       s.n_distinct::float8 AS n_distinct,
       s.avg_width,
       s.null_frac::float8 AS null_frac,
       -- anyarray reads as text: the value a boolean equality to $n most likely asks for (soft deletes: false)
       (s.most_common_vals::text::text[])[1] AS most_common_value,
       s.most_common_freqs[1]::float8 AS most_common_freq,
       t.estimated_rows,
       t.writes,
       t.writes / nullif((SELECT seconds FROM counted_since), 0) AS writes_per_second
FROM tables t
JOIN pg_attribute a ON a.attrelid = t.oid AND a.attnum > 0 AND NOT a.attisdropped
LEFT JOIN pg_stats s ON s.schemaname = t.nspname AND s.tablename = t.relname AND s.attname = a.attname
                    AND NOT s.inherited
ORDER BY t.nspname, t.relname, a.attnum
