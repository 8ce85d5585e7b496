-- Active client queries running at least :min_seconds, other than this session's (pg_stat_activity).
SELECT a.pid,
       a.usename AS user_name,
       a.datname AS database_name,
       a.application_name,
       host(a.client_addr) AS client_addr,
       a.wait_event_type,
       a.wait_event,
       a.query_start,
       extract(epoch FROM clock_timestamp() - a.query_start)::float8 AS query_seconds,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_seconds,
       a.query
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend'
  AND a.state = 'active'
  AND a.pid <> pg_backend_pid()
  AND a.query_start <= clock_timestamp() - make_interval(secs => :min_seconds)
ORDER BY a.query_start, a.pid
LIMIT :limit
