-- Records one target's latest fleet figures: reachability, server figures, failing checks (pgpulse.fleet_state).
INSERT INTO pgpulse.fleet_state AS f (target_id, checked_at, reachable, error, unreachable_since, read_at, server_version,
    server_started_at, max_connections, server_connections, database_connections, oldest_xact_age_s, wraparound_age_xids,
    freeze_max_age_xids, in_recovery, replication_lag_s, live_checks, live_checks_at, catalog_checks, catalog_checks_at)
VALUES (:target_id, :checked_at, :reachable, :error, :unreachable_since, :read_at, :server_version, :server_started_at,
    :max_connections, :server_connections, :database_connections, :oldest_xact_age_s, :wraparound_age_xids,
    :freeze_max_age_xids, :in_recovery, :replication_lag_s, CAST(:live_checks AS jsonb), :live_checks_at,
    CAST(:catalog_checks AS jsonb), :catalog_checks_at)
ON CONFLICT (target_id) DO UPDATE
SET checked_at = excluded.checked_at, reachable = excluded.reachable, error = excluded.error,
    unreachable_since = excluded.unreachable_since, read_at = excluded.read_at, server_version = excluded.server_version,
    server_started_at = excluded.server_started_at, max_connections = excluded.max_connections,
    server_connections = excluded.server_connections, database_connections = excluded.database_connections,
    oldest_xact_age_s = excluded.oldest_xact_age_s, wraparound_age_xids = excluded.wraparound_age_xids,
    freeze_max_age_xids = excluded.freeze_max_age_xids, in_recovery = excluded.in_recovery,
    replication_lag_s = excluded.replication_lag_s, live_checks = excluded.live_checks,
    live_checks_at = excluded.live_checks_at, catalog_checks = excluded.catalog_checks,
    catalog_checks_at = excluded.catalog_checks_at
