-- Rolls every target's complete hours of session samples past its watermark up to one row per hour and combination (pgpulse.activity_load -> activity_load_hourly).
INSERT INTO pgpulse.activity_load_hourly
SELECT l.target_id, date_trunc('hour', l.sampled_at, 'UTC'), l.state, l.wait_event_type, l.wait_event, l.query_id,
       l.user_name, l.application_name, l.database_name, l.client_addr, l.backend_type, sum(l.samples)
FROM pgpulse.activity_load l
LEFT JOIN pgpulse.rollup_watermark w ON w.target_id = l.target_id
WHERE l.sampled_at < :until AND l.sampled_at >= coalesce(w.rolled_until, '-infinity')
GROUP BY l.target_id, date_trunc('hour', l.sampled_at, 'UTC'), l.state, l.wait_event_type, l.wait_event, l.query_id,
         l.user_name, l.application_name, l.database_name, l.client_addr, l.backend_type
