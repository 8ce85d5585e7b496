-- The latest fleet figures of the named targets (pgpulse.fleet_state), with the store's clock to age them by.
SELECT t.name AS target, f.checked_at, f.reachable, f.error, f.unreachable_since, f.read_at, f.server_version,
       f.server_started_at, f.max_connections, f.server_connections, f.database_connections, f.oldest_xact_age_s,
       f.wraparound_age_xids, f.freeze_max_age_xids, f.in_recovery, f.replication_lag_s, f.live_checks, f.live_checks_at,
       f.catalog_checks, f.catalog_checks_at, now() AS store_now
FROM pgpulse.fleet_state f
JOIN pgpulse.target t USING (target_id)
WHERE t.name = ANY(:names)
