-- Per time bucket, a target's Redis INFO deltas summed with the seconds they cover, memory at its peak and clients on
-- average (pgpulse.redis_sample).
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(interval_s)::float8 AS covered_s,
       sum(keyspace_hits)::bigint AS keyspace_hits,
       sum(keyspace_misses)::bigint AS keyspace_misses,
       sum(evicted_keys)::bigint AS evicted_keys,
       sum(expired_keys)::bigint AS expired_keys,
       sum(total_commands_processed)::bigint AS total_commands_processed,
       max(used_memory_bytes)::bigint AS used_memory_bytes,
       max(maxmemory_bytes)::bigint AS maxmemory_bytes,
       avg(connected_clients)::float8 AS connected_clients,
       max(blocked_clients)::int AS blocked_clients
FROM pgpulse.redis_sample
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
GROUP BY 1
ORDER BY 1
