-- Client backends of the current database counted by state (pg_stat_activity); a NULL state (no privilege) counts as 'unknown'.
SELECT d.oid AS datid,
       coalesce(a.state, 'unknown') AS state,
       count(*)::int AS connections
FROM pg_stat_activity a
JOIN pg_database d ON d.datname = a.datname
WHERE a.backend_type = 'client backend'
  AND a.datname = current_database()
GROUP BY d.oid, coalesce(a.state, 'unknown')
ORDER BY connections DESC, state
