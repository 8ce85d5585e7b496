-- Per target, average active sessions since :start from active session sampling (pgpulse.activity_bucket, activity_load).
WITH buckets AS (
    SELECT b.target_id, sum(b.samples)::float8 AS samples, max(b.sampled_at + make_interval(secs => b.bucket_s)) AS last_at
    FROM pgpulse.activity_bucket b
    WHERE b.sampled_at >= :start
    GROUP BY 1
), active AS (
    SELECT l.target_id, sum(l.samples)::float8 AS session_samples
    FROM pgpulse.activity_load l
    WHERE l.sampled_at >= :start AND l.state = 'active'
    GROUP BY 1
)
SELECT t.name AS target, coalesce(a.session_samples, 0) / nullif(b.samples, 0) AS average_active_sessions,
       b.last_at AS load_at
FROM buckets b
JOIN pgpulse.target t USING (target_id)
LEFT JOIN active a USING (target_id)
WHERE t.name = ANY(:names)
