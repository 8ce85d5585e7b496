-- The last stored values of every entry of one metric kept as changes, of one target (pgpulse.value_state).
SELECT entry, vals FROM pgpulse.value_state WHERE target_id = :target_id AND metric = :metric
