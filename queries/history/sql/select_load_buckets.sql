-- Active sessions' samples per time bucket and dimension (pgpulse.activity_load, and activity_load_hourly for the hours rolled up in [hours_from, hours_to)): the Database load chart.
WITH samples AS (
    SELECT sampled_at, state, wait_event_type, wait_event, query_id, user_name, application_name, database_name, samples
    FROM pgpulse.activity_load_hourly
    WHERE target_id = :target_id AND sampled_at >= :hours_from AND sampled_at < :hours_to
    UNION ALL
    SELECT sampled_at, state, wait_event_type, wait_event, query_id, user_name, application_name, database_name, samples
    FROM pgpulse.activity_load
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < least(:end, :hours_from)
    UNION ALL
    SELECT sampled_at, state, wait_event_type, wait_event, query_id, user_name, application_name, database_name, samples
    FROM pgpulse.activity_load
    WHERE target_id = :target_id AND sampled_at >= greatest(:start, :hours_to) AND sampled_at < :end
)
SELECT date_bin(:bucket, l.sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       CASE :by WHEN 'wait_event_type' THEN coalesce(l.wait_event_type, 'CPU')
                WHEN 'wait_event' THEN coalesce(l.wait_event_type || ': ' || l.wait_event, 'CPU')
                WHEN 'statement' THEN coalesce(l.query_id::text, '')
                WHEN 'user' THEN coalesce(l.user_name, '')
                WHEN 'application' THEN coalesce(l.application_name, '')
                WHEN 'database' THEN coalesce(l.database_name, '')
       END AS dimension,
       sum(l.samples)::bigint AS session_samples
FROM samples l
WHERE l.state = 'active'  -- idle in transaction holds locks but runs nothing: not load
  AND (CAST(:query_id AS bigint) IS NULL OR l.query_id = CAST(:query_id AS bigint))
GROUP BY 1, 2
ORDER BY 1, 2
