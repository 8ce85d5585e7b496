-- Samples taken per time bucket, the seconds they cover and what they were taken against (pgpulse.activity_bucket, and activity_bucket_hourly for the hours rolled up in [hours_from, hours_to)).
WITH buckets AS (
    SELECT sampled_at, samples, every_s, max_connections, cpu_count, query_id_computed
    FROM pgpulse.activity_bucket_hourly
    WHERE target_id = :target_id AND sampled_at >= :hours_from AND sampled_at < :hours_to
    UNION ALL
    SELECT sampled_at, samples, every_s, max_connections, cpu_count, query_id_computed
    FROM pgpulse.activity_bucket
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < least(:end, :hours_from)
    UNION ALL
    SELECT sampled_at, samples, every_s, max_connections, cpu_count, query_id_computed
    FROM pgpulse.activity_bucket
    WHERE target_id = :target_id AND sampled_at >= greatest(:start, :hours_to) AND sampled_at < :end
)
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(samples)::bigint AS samples,
       sum(samples * every_s)::float8 AS sampled_s,
       max(max_connections) AS max_connections,
       max(cpu_count) AS cpu_count,
       bool_and(query_id_computed) AS query_id_computed
FROM buckets
GROUP BY 1
ORDER BY 1
