-- Client sessions idle inside an open transaction for at least :min_seconds (pg_stat_activity).
SELECT a.pid,
       a.usename AS user_name,
       a.datname AS database_name,
       a.application_name,
       host(a.client_addr) AS client_addr,
       a.state,
       a.xact_start,
       a.state_change,
       extract(epoch FROM clock_timestamp() - a.state_change)::float8 AS idle_seconds,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_seconds,
       a.backend_xid::text AS backend_xid,
       a.query AS last_query
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend'
  AND a.state IN ('idle in transaction', 'idle in transaction (aborted)')
  AND a.state_change <= clock_timestamp() - make_interval(secs => :min_seconds)
ORDER BY a.state_change, a.pid
LIMIT :limit
