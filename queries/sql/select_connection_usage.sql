-- Client-backend connection slots in use against max_connections and the reserved slots (pg_stat_activity, settings).
WITH slots AS (
    SELECT (SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend')::int AS total_connections,
           current_setting('max_connections')::int AS max_connections,
           current_setting('superuser_reserved_connections')::int AS superuser_reserved_connections,
           -- reserved_connections (pg_use_reserved_connections) exists from PostgreSQL 16 only
           coalesce(current_setting('reserved_connections', true)::int, 0) AS reserved_connections
)
SELECT total_connections,
       max_connections,
       superuser_reserved_connections,
       reserved_connections,
       greatest(max_connections - superuser_reserved_connections - reserved_connections - total_connections, 0)
           AS available_connections,
       total_connections::float8 / max_connections AS usage_ratio
FROM slots
