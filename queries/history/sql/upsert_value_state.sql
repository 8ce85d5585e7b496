-- Records an entry's values as of the snapshot just stored, for a metric kept as changes (pgpulse.value_state).
INSERT INTO pgpulse.value_state (target_id, metric, entry, vals)
VALUES (:target_id, :metric, :entry, :vals)
ON CONFLICT (target_id, metric, entry) DO UPDATE SET vals = excluded.vals
