-- The last stored counters of every entry of one metric of one target (pgpulse.counter_state).
SELECT entry, counters, stats_since FROM pgpulse.counter_state WHERE target_id = :target_id AND metric = :metric
