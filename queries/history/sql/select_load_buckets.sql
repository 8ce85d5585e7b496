-- Active sessions' samples per time bucket and dimension (pgpulse.activity_load): the Database load chart.
SELECT date_bin(:bucket, l.sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       CASE :by WHEN 'wait_event_type' THEN coalesce(l.wait_event_type, 'CPU')
                WHEN 'wait_event' THEN coalesce(l.wait_event_type || ': ' || l.wait_event, 'CPU')
                WHEN 'statement' THEN coalesce(l.query_id::text, '')
                WHEN 'user' THEN coalesce(l.user_name, '')
                WHEN 'application' THEN coalesce(l.application_name, '')
                WHEN 'database' THEN coalesce(l.database_name, '')
       END AS dimension,
       sum(l.samples)::bigint AS session_samples
FROM pgpulse.activity_load l
WHERE l.target_id = :target_id AND l.sampled_at >= :start AND l.sampled_at < :end
  AND l.state = 'active'  -- idle in transaction holds locks but runs nothing: not load
  AND (CAST(:query_id AS bigint) IS NULL OR l.query_id = CAST(:query_id AS bigint))
GROUP BY 1, 2
ORDER BY 1, 2
