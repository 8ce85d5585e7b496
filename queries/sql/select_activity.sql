-- Sessions with their timings, waits and blockers (pg_stat_activity, pg_blocking_pids).
SELECT a.pid,
       a.usename AS user_name,
       a.datname AS database_name,
       a.application_name,
       host(a.client_addr) AS client_addr,
       a.state,
       a.wait_event_type,
       a.wait_event,
       a.backend_start,
       a.xact_start,
       a.query_start,
       a.state_change,
       CASE WHEN a.state = 'active' THEN extract(epoch FROM clock_timestamp() - a.query_start)::float8 END AS query_seconds,
       extract(epoch FROM clock_timestamp() - a.xact_start)::float8 AS xact_seconds,
       CASE WHEN a.state LIKE 'idle%' THEN extract(epoch FROM clock_timestamp() - a.state_change)::float8 END AS idle_seconds,
       -- only a heavyweight-lock wait can have blockers: skip the lock-manager scan for everyone else
       CASE WHEN a.wait_event_type = 'Lock' THEN pg_blocking_pids(a.pid) ELSE '{}'::int[] END AS blocked_by,
       a.query,
       a.backend_type
FROM pg_stat_activity a
WHERE a.pid IS NOT NULL
  AND (CAST(:all_backends AS boolean) OR a.backend_type = 'client backend')
-- idle last; a background process waiting on 'Activity' is idle in its main loop
ORDER BY coalesce(a.state = 'idle' OR a.wait_event_type = 'Activity', false), coalesce(a.xact_start, a.query_start, a.backend_start), a.pid
LIMIT :limit
