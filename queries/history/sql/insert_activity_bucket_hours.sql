-- Rolls every target's complete hours of session samples past its watermark up to one row per hour (pgpulse.activity_bucket -> activity_bucket_hourly).
INSERT INTO pgpulse.activity_bucket_hourly
SELECT b.target_id, date_trunc('hour', b.sampled_at, 'UTC'), 3600, sum(b.samples), max(b.max_connections),
       max(b.cpu_count), sum(b.samples * b.every_s) / sum(b.samples), bool_and(b.query_id_computed)
FROM pgpulse.activity_bucket b
LEFT JOIN pgpulse.rollup_watermark w ON w.target_id = b.target_id
WHERE b.sampled_at < :until AND b.sampled_at >= coalesce(w.rolled_until, '-infinity')
GROUP BY b.target_id, date_trunc('hour', b.sampled_at, 'UTC')
