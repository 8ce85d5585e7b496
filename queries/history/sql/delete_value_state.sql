-- Forgets entries gone from the view (a setting no longer there), for a metric kept as changes (pgpulse.value_state).
DELETE FROM pgpulse.value_state WHERE target_id = :target_id AND metric = :metric AND entry = ANY(:entries)
