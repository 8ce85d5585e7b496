-- Server and current-database summary from pg_stat_database, pg_stat_activity and settings.
SELECT current_setting('server_version') AS server_version,
       current_setting('server_version_num')::int AS server_version_num,
       extract(epoch FROM now() - pg_postmaster_start_time())::float8 AS uptime_seconds,
       current_database() AS database_name,
       -- relpages, not pg_database_size(): that stats every file, ~0.4 s on 40,000 relations
       (SELECT sum(relpages)::bigint * current_setting('block_size')::bigint FROM pg_class) AS database_size_estimate_bytes,
       (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend') AS connections_used,
       current_setting('max_connections')::int AS max_connections,
       current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
       d.blks_hit,
       d.blks_read,
       d.blks_hit::float8 / nullif(d.blks_hit + d.blks_read, 0) AS cache_hit_ratio,
       d.xact_commit + d.xact_rollback AS transactions_total,
       extract(epoch FROM clock_timestamp())::float8 AS sampled_at_epoch
FROM pg_stat_database d
WHERE d.datname = current_database()
