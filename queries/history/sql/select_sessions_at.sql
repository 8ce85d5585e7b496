-- The sessions sampled in one bucket, as average sessions per combination (pgpulse.activity_load, activity_bucket, statement_text).
WITH bucket AS (
    SELECT sum(samples) AS samples FROM pgpulse.activity_bucket WHERE target_id = :target_id AND sampled_at = :bucket_start
)
SELECT l.state, l.wait_event_type, l.wait_event, l.query_id, t.query, l.user_name, l.application_name,
       l.database_name, l.client_addr, l.backend_type,
       (sum(l.samples) / nullif((SELECT samples FROM bucket), 0))::float8 AS average_sessions
FROM pgpulse.activity_load l
LEFT JOIN pgpulse.statement_text t ON t.target_id = l.target_id AND t.queryid = l.query_id
WHERE l.target_id = :target_id AND l.sampled_at = :bucket_start
GROUP BY l.state, l.wait_event_type, l.wait_event, l.query_id, t.query, l.user_name, l.application_name,
         l.database_name, l.client_addr, l.backend_type
ORDER BY average_sessions DESC, l.state, l.query_id
