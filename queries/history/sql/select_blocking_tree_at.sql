-- The blocking tree sampled nearest a moment, within :within of it (pgpulse.lock_wait_sample), in tree order.
WITH nearest AS (
    SELECT sampled_at
    FROM pgpulse.lock_wait_sample
    WHERE target_id = :target_id AND sampled_at BETWEEN CAST(:at AS timestamptz) - :within AND CAST(:at AS timestamptz) + :within
    ORDER BY abs(extract(epoch FROM sampled_at - CAST(:at AS timestamptz))), sampled_at
    LIMIT 1
)
SELECT l.sampled_at, l.pid, l.blocking_pid, l.root_pid, l.depth, l.path, l.user_name, l.database_name, l.state,
       l.wait_seconds, l.lock_mode, l.locktype, l.relation, l.query, l.backend_type
FROM pgpulse.lock_wait_sample l
JOIN nearest USING (sampled_at)
WHERE l.target_id = :target_id
ORDER BY l.root_pid, string_to_array(l.path, ' > ')::int[]
