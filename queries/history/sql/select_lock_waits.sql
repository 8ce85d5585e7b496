-- Every sampled lock wait of a range: who waited on whom, for which lock (pgpulse.lock_wait_sample, waiters only).
SELECT sampled_at, pid AS waiting_pid, blocking_pid, lock_mode, locktype, relation, wait_seconds, query
FROM pgpulse.lock_wait_sample
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end AND depth > 0
ORDER BY sampled_at, root_pid, string_to_array(path, ' > ')::int[]
LIMIT :limit
