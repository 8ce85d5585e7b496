-- Per time bucket, a target's pg_stat_database deltas summed with the seconds they cover (pgpulse.database_delta).
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       sum(interval_s)::float8 AS covered_s,
       sum(xact_commit)::bigint AS xact_commit,
       sum(xact_rollback)::bigint AS xact_rollback,
       sum(blks_hit)::bigint AS blks_hit,
       sum(blks_read)::bigint AS blks_read,
       sum(tup_returned)::bigint AS tup_returned,
       sum(tup_fetched)::bigint AS tup_fetched,
       sum(tup_inserted)::bigint AS tup_inserted,
       sum(tup_updated)::bigint AS tup_updated,
       sum(tup_deleted)::bigint AS tup_deleted,
       sum(temp_files)::bigint AS temp_files,
       sum(temp_bytes)::bigint AS temp_bytes,
       sum(deadlocks)::bigint AS deadlocks,
       sum(conflicts)::bigint AS conflicts
FROM pgpulse.database_delta
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
GROUP BY 1
ORDER BY 1
