-- The size collections that bound a range: the last at or before its start, the first and last inside it (pgpulse.metric_collection).
SELECT (SELECT max(sampled_at) FROM pgpulse.metric_collection
        WHERE target_id = :target_id AND metric = 'relation_sizes' AND sampled_at <= :start) AS before_start_at,
       min(sampled_at) AS first_at,
       max(sampled_at) AS last_at
FROM pgpulse.metric_collection
WHERE target_id = :target_id AND metric = 'relation_sizes' AND sampled_at > :start AND sampled_at < :end
