-- The collector's last snapshot markers of one metric of one target (pgpulse.collector_state), locked for the write.
SELECT sampled_at, stats_reset, server_started_at, dealloc
FROM pgpulse.collector_state
WHERE target_id = :target_id AND metric = :metric
FOR UPDATE
