-- One collection of a metric whose idle entries write no row (pgpulse.metric_collection).
INSERT INTO pgpulse.metric_collection (target_id, sampled_at, metric, interval_s, entries, estimated)
VALUES (:target_id, :sampled_at, :metric, :interval_s, :entries, :estimated)
