-- One row per statement collection (pgpulse.statement_collection): entries read, evictions, reset and restart seen.
INSERT INTO pgpulse.statement_collection (target_id, sampled_at, interval_s, entries, evictions, stats_reset, server_restarted)
VALUES (:target_id, :sampled_at, :interval_s, :entries, :evictions, :stats_reset, :server_restarted)
