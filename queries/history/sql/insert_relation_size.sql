-- One relation's exact size at a collection, or NULL when it is gone (pgpulse.relation_size).
INSERT INTO pgpulse.relation_size (target_id, relid, sampled_at, size_bytes) VALUES (:target_id, :relid, :sampled_at, :size_bytes)
