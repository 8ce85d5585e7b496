-- The database's size at a collection (pgpulse.database_size_sample).
INSERT INTO pgpulse.database_size_sample (target_id, datid, sampled_at, size_bytes) VALUES (:target_id, :datid, :sampled_at, :size_bytes)
