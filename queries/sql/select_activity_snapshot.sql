-- Every backend, read once for all the session panels (pg_stat_activity, pg_blocking_pids).
-- queries/activity.py derives every session panel (activity, connection counts and usage, long-running, idle in
-- transaction, wait events, the progress rows' session columns) from these rows, in Python.
-- One row per backend, each with the connection settings, this backend's pid and role and the progress count:
-- settings and sessions in one statement, one round trip.
WITH settings AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
           -- reserved_connections (pg_use_reserved_connections) exists from PostgreSQL 16 only
           coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved_connections,
           pg_backend_pid() AS own_pid,
           current_user AS role_name,
           -- is_superuser follows SET ROLE as current_user does, without pg_roles' catalog join
           current_setting('is_superuser')::boolean
               OR pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS can_read_all_stats,
           (SELECT count(*) FROM unnest(ARRAY['VACUUM', 'ANALYZE', 'CREATE INDEX', 'CLUSTER']) AS c(command),
                                 LATERAL pg_stat_get_progress_info(c.command) p)::int AS progress_backends
)
SELECT s.*,
       a.pid,
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
CROSS JOIN settings s
WHERE a.pid IS NOT NULL
-- the connection counts' keys, in the database's collation: equal keys are adjacent, and in the order they are listed
ORDER BY a.state, a.datname, a.usename, a.application_name, host(a.client_addr)
