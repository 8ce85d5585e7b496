-- One database's pg_stat_database counters over one interval (pgpulse.database_delta).
INSERT INTO pgpulse.database_delta (target_id, sampled_at, interval_s, datid, xact_commit, xact_rollback, blks_read,
    blks_hit, tup_returned, tup_fetched, tup_inserted, tup_updated, tup_deleted, temp_files, temp_bytes, deadlocks,
    conflicts)
VALUES (:target_id, :sampled_at, :interval_s, :datid, :xact_commit, :xact_rollback, :blks_read,
    :blks_hit, :tup_returned, :tup_fetched, :tup_inserted, :tup_updated, :tup_deleted, :temp_files, :temp_bytes,
    :deadlocks, :conflicts)
