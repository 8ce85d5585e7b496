-- Per target and time bucket, transactions and buffer hits from the stored database counters (pgpulse.database_delta) since :start.
SELECT t.name AS target,
       date_bin(:bucket, d.sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       max(d.sampled_at) AS last_at,
       sum(d.interval_s)::float8 AS covered_s,
       sum(d.xact_commit + d.xact_rollback)::bigint AS transactions,
       sum(d.blks_hit)::bigint AS blks_hit,
       sum(d.blks_read)::bigint AS blks_read
FROM pgpulse.database_delta d
JOIN pgpulse.target t USING (target_id)
WHERE t.name = ANY(:names) AND d.sampled_at >= :start
GROUP BY 1, 2
ORDER BY 1, 2
