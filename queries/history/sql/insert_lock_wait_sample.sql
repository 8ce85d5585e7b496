-- One row of a sampled blocking tree (pgpulse.lock_wait_sample), its statement text masked.
INSERT INTO pgpulse.lock_wait_sample (target_id, sampled_at, pid, blocking_pid, root_pid, depth, path, user_name,
                                      database_name, state, wait_seconds, lock_mode, locktype, relation, query, backend_type)
VALUES (:target_id, :sampled_at, :pid, :blocking_pid, :root_pid, :depth, :path, :user_name, :database_name, :state,
        :wait_seconds, :lock_mode, :locktype, :relation, :query, :backend_type)
