-- Every backend, read once for all the session panels (pg_stat_activity, pg_blocking_pids).
-- queries/activity.py derives every session panel (activity, connection counts and usage, long-running, idle in
-- transaction, wait events, the progress rows' session columns) from these rows, in Python.
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
       a.backend_type,
       a.backend_xid::text AS backend_xid,
       extract(epoch FROM clock_timestamp() - coalesce(a.xact_start, a.query_start))::float8 AS started_seconds,
       -- the wait events' order of their text keys, in the database's collation (which Python's sort doesn't know)
       dense_rank() OVER (ORDER BY a.wait_event_type NULLS FIRST, a.wait_event NULLS FIRST)::int AS wait_event_order
FROM pg_stat_activity a
WHERE a.pid IS NOT NULL
-- the connection counts' keys, in the database's collation: equal keys are adjacent, and in the order they are listed
ORDER BY a.state, a.datname, a.usename, a.application_name, host(a.client_addr)
