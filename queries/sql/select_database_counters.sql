-- The current database's cumulative counters from pg_stat_database (the collector keeps their deltas).
SELECT d.datid,
       d.datname AS database_name,
       d.xact_commit,
       d.xact_rollback,
       d.blks_read,
       d.blks_hit,
       d.tup_returned,
       d.tup_fetched,
       d.tup_inserted,
       d.tup_updated,
       d.tup_deleted,
       d.temp_files,
       d.temp_bytes,
       d.deadlocks,
       d.conflicts,
       d.stats_reset,
       pg_postmaster_start_time() AS server_started_at,
       clock_timestamp() AS sampled_at
FROM pg_stat_database d
WHERE d.datname = current_database()
