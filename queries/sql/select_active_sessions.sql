-- Non-idle client backends for active session sampling (pg_stat_activity), with max_connections and whether query ids are computed.
-- One row even when nothing runs (pid NULL then): the settings are what the sample is taken against.
WITH settings AS (
    SELECT current_setting('max_connections')::int AS max_connections,
           -- auto computes them when a module asks, as pg_stat_statements does once preloaded
           current_setting('compute_query_id') IN ('on', 'regress')
               OR (current_setting('compute_query_id') = 'auto'
                   AND current_setting('shared_preload_libraries') LIKE '%pg_stat_statements%') AS query_id_computed
)
SELECT s.max_connections,
       s.query_id_computed,
       a.pid,
       a.state,
       a.wait_event_type,
       a.wait_event,
       a.query_id,
       a.usename AS user_name,
       a.application_name,
       a.datname AS database_name,
       host(a.client_addr) AS client_addr,
       a.backend_type
FROM settings s
LEFT JOIN pg_stat_activity a
    ON a.backend_type = 'client backend' AND a.state IS NOT NULL AND a.state <> 'idle'
       AND a.pid <> pg_backend_pid()  -- the sampler itself is always active
