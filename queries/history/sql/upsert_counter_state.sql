-- Records an entry's counters as of the snapshot just stored (pgpulse.counter_state).
INSERT INTO pgpulse.counter_state (target_id, metric, entry, counters, stats_since)
VALUES (:target_id, :metric, :entry, :counters, :stats_since)
ON CONFLICT (target_id, metric, entry) DO UPDATE SET counters = excluded.counters, stats_since = excluded.stats_since
