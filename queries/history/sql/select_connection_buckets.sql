-- Per time bucket and state, the mean number of client connections over the bucket's samples (pgpulse.connection_sample).
WITH samples AS (
    SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, sampled_at, state, connections
    FROM pgpulse.connection_sample
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
)
SELECT bucket_start, state,
       sum(connections)::float8 / (SELECT count(DISTINCT s2.sampled_at) FROM samples s2 WHERE s2.bucket_start = s.bucket_start)
           AS connections
FROM samples s
GROUP BY bucket_start, state
ORDER BY bucket_start, state
