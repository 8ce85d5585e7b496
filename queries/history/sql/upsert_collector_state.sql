-- Records the markers of the snapshot just stored (pgpulse.collector_state).
INSERT INTO pgpulse.collector_state (target_id, metric, sampled_at, stats_reset, server_started_at, dealloc)
VALUES (:target_id, :metric, :sampled_at, :stats_reset, :server_started_at, :dealloc)
ON CONFLICT (target_id, metric) DO UPDATE
SET sampled_at = excluded.sampled_at, stats_reset = excluded.stats_reset,
    server_started_at = excluded.server_started_at, dealloc = excluded.dealloc
