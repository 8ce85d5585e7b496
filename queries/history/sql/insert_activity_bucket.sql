-- One bucket of active session sampling: how many samples were taken, against what (pgpulse.activity_bucket).
INSERT INTO pgpulse.activity_bucket (target_id, sampled_at, bucket_s, samples, every_s, max_connections, cpu_count, query_id_computed)
VALUES (:target_id, :sampled_at, :bucket_s, :samples, :every_s, :max_connections, :cpu_count, :query_id_computed)
