-- One interval of a target's Redis INFO: counters as deltas, memory and clients as read (pgpulse.redis_sample).
INSERT INTO pgpulse.redis_sample (target_id, sampled_at, interval_s, keyspace_hits, keyspace_misses, evicted_keys,
    expired_keys, total_commands_processed, used_memory_bytes, maxmemory_bytes, connected_clients, blocked_clients)
VALUES (:target_id, :sampled_at, :interval_s, :keyspace_hits, :keyspace_misses, :evicted_keys, :expired_keys,
    :total_commands_processed, :used_memory_bytes, :maxmemory_bytes, :connected_clients, :blocked_clients)
