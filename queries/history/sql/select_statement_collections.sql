-- Per time bucket, the seconds the statement collections cover, the evictions and resets seen (pgpulse.statement_collection).
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(interval_s)::float8 AS covered_s,
       sum(evictions)::bigint AS evictions,
       bool_or(stats_reset) AS stats_reset,
       bool_or(server_restarted) AS server_restarted
FROM pgpulse.statement_collection
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
GROUP BY 1
ORDER BY 1
