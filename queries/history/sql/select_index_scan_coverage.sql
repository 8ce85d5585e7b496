-- The span the index-scan collections of a range cover (pgpulse.metric_collection).
-- From the first interval's start (a base collection counts from its own moment) to the last collection.
SELECT min(sampled_at - coalesce(interval_s, 0) * interval '1 second') AS counted_from, max(sampled_at) AS counted_to
FROM pgpulse.metric_collection
WHERE target_id = :target_id AND metric = 'index_scans' AND sampled_at >= :start AND sampled_at < :end
