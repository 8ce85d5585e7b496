-- Each user index's scan counter (pg_class, pg_stat_get_numscans) and the current database's stats_reset (pg_stat_database), for the collector.
SELECT c.oid AS relid,
       pg_stat_get_numscans(c.oid) AS idx_scan,
       d.stats_reset
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_stat_database d ON d.datname = current_database()
WHERE c.relkind = 'i'
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
ORDER BY c.oid
