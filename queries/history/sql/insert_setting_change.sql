-- One setting whose value or pending-restart flag changed between two collections (pgpulse.setting_change).
INSERT INTO pgpulse.setting_change (target_id, sampled_at, previous_sampled_at, name, previous_value, value,
    pending_restart)
VALUES (:target_id, :sampled_at, :previous_sampled_at, :name, :previous_value, :value, :pending_restart)
