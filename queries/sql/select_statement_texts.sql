-- The texts of the given pg_stat_statements entries of the current database: the collector asks for new entries only.
SELECT s.queryid,
       s.query
FROM pg_stat_statements(true) s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.queryid = ANY(:queryids)
