-- Connection slots, this backend's pid, whether this role sees other roles' sessions (settings, role membership),
-- and how many backends report progress (the function under the pg_stat_progress_* views: no catalog read).
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
