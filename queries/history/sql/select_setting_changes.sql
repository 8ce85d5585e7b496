-- A target's setting changes seen by the collections in a range, oldest first (pgpulse.setting_change).
SELECT sampled_at AS changed_at, previous_sampled_at AS changed_after, name, previous_value AS old_value,
       value AS new_value, pending_restart
FROM pgpulse.setting_change
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
ORDER BY sampled_at, name
