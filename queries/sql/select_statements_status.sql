-- Whether pg_stat_statements is available, installed here, preloaded, times planning, and who may read all of it.
SELECT (SELECT count(*) > 0 FROM pg_available_extensions WHERE name = 'pg_stat_statements') AS available,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_stat_statements') AS installed_version,
       -- pg_settings hides superuser-only settings from other roles: NULL means "cannot tell"
       (SELECT setting FROM pg_settings WHERE name = 'shared_preload_libraries') AS shared_preload_libraries,
       -- defined only once the library is loaded: NULL then means "cannot tell"
       (SELECT setting FROM pg_settings WHERE name = 'pg_stat_statements.track_planning') AS track_planning,
       current_user AS role_name,
       current_database() AS database_name,
       (SELECT rolsuper FROM pg_roles WHERE rolname = current_user) AS is_superuser,
       pg_has_role(current_user, 'pg_read_all_stats', 'USAGE') AS can_read_all_stats
