-- The database's size at each collection of a range (pgpulse.database_size_sample).
SELECT sampled_at, size_bytes
FROM pgpulse.database_size_sample
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
ORDER BY sampled_at
