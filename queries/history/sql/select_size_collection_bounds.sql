-- The size collections that bound a range: the last at or before its start, the first and last inside it, and whether each was estimated (pgpulse.metric_collection).
WITH before_start AS (
    SELECT sampled_at, estimated FROM pgpulse.metric_collection
    WHERE target_id = :target_id AND metric = 'relation_sizes' AND sampled_at <= :start
    ORDER BY sampled_at DESC LIMIT 1
), inside AS (
    SELECT sampled_at, estimated FROM pgpulse.metric_collection
    WHERE target_id = :target_id AND metric = 'relation_sizes' AND sampled_at > :start AND sampled_at < :end
)
SELECT (SELECT sampled_at FROM before_start) AS before_start_at,
       (SELECT estimated FROM before_start) AS before_start_estimated,
       (SELECT sampled_at FROM inside ORDER BY sampled_at LIMIT 1) AS first_at,
       (SELECT estimated FROM inside ORDER BY sampled_at LIMIT 1) AS first_estimated,
       (SELECT sampled_at FROM inside ORDER BY sampled_at DESC LIMIT 1) AS last_at,
       (SELECT estimated FROM inside ORDER BY sampled_at DESC LIMIT 1) AS last_estimated
