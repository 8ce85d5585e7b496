-- Server-wide figures for the Fleet page, one row per database that accepts connections: version, start, max_connections, connections, oldest open transaction, wraparound age, replication lag (pg_database, pg_stat_activity, pg_stat_replication).
WITH sessions AS (
    SELECT datname,
           count(*) AS connections,
           -- our own transaction started a moment ago: never the oldest one
           max(extract(epoch FROM clock_timestamp() - xact_start)) FILTER (WHERE pid <> pg_backend_pid()) AS oldest_xact_age_s
    FROM pg_stat_activity
    WHERE backend_type = 'client backend'
    GROUP BY datname
)
SELECT d.datname AS database_name,
       current_setting('server_version') AS server_version,
       pg_postmaster_start_time() AS server_started_at,
       current_setting('max_connections')::int AS max_connections,
       (SELECT coalesce(sum(connections), 0) FROM sessions)::int AS server_connections,
       coalesce(s.connections, 0)::int AS database_connections,
       s.oldest_xact_age_s::float8 AS oldest_xact_age_s,
       age(d.datfrozenxid)::bigint AS wraparound_age_xids,
       current_setting('autovacuum_freeze_max_age')::bigint AS freeze_max_age_xids,
       pg_is_in_recovery() AS in_recovery,
       -- a primary: its slowest standby's replay lag; a standby: its own (0 when caught up)
       (CASE WHEN pg_is_in_recovery() THEN
                  CASE WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
                       ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END
             ELSE (SELECT extract(epoch FROM max(r.replay_lag)) FROM pg_stat_replication r) END)::float8
           AS replication_lag_s
FROM pg_database d
LEFT JOIN sessions s ON s.datname = d.datname
WHERE d.datallowconn AND NOT d.datistemplate
ORDER BY d.datname
