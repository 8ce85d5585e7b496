-- A late bucket (written after its hour was rolled up) added to that hour too (pgpulse.activity_bucket_hourly).
INSERT INTO pgpulse.activity_bucket_hourly (target_id, sampled_at, bucket_s, samples, every_s, max_connections, cpu_count,
                                            query_id_computed)
VALUES (:target_id, date_trunc('hour', CAST(:sampled_at AS timestamptz), 'UTC'), 3600, :samples, :every_s,
        :max_connections, :cpu_count, :query_id_computed)
