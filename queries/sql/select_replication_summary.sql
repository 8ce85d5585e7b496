-- Whether this server is a primary or a standby, its WAL position, replay lag and WAL written (pg_is_in_recovery, pg_stat_wal).
SELECT pg_is_in_recovery() AS in_recovery,
       current_setting('wal_level') AS wal_level,
       current_setting('max_wal_senders')::int AS max_wal_senders,
       current_setting('archive_mode') AS archive_mode,
       -- pg_current_wal_lsn() raises on a standby: CASE evaluates only the branch taken
       CASE WHEN pg_is_in_recovery() THEN NULL ELSE pg_current_wal_lsn()::text END AS current_wal_lsn,
       -- WAL generated: the insert position, not the write position, which lags by up to wal_writer_delay
       -- under synchronous_commit = off
       pg_wal_lsn_diff(CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_insert_lsn() END,
                       '0/0')::bigint AS wal_position_bytes,
       pg_last_wal_receive_lsn()::text AS receive_lsn,
       pg_last_wal_replay_lsn()::text AS replay_lsn,
       pg_wal_lsn_diff(pg_last_wal_receive_lsn(), pg_last_wal_replay_lsn())::bigint AS replay_lag_bytes,
       -- caught up means no lag, however long ago the primary's last transaction was
       (CASE WHEN NOT pg_is_in_recovery() THEN NULL
             WHEN pg_last_wal_receive_lsn() = pg_last_wal_replay_lsn() THEN 0
             ELSE extract(epoch FROM now() - pg_last_xact_replay_timestamp()) END)::float8 AS replay_lag_seconds,
       extract(epoch FROM pg_last_xact_replay_timestamp())::float8 AS last_replayed_xact_at_epoch,
       (SELECT count(*) FROM pg_stat_replication)::int AS standbys,
       (SELECT count(*) FROM pg_replication_slots)::int AS slots,
       (SELECT count(*) FROM pg_replication_slots WHERE NOT active)::int AS inactive_slots,
       w.wal_records,
       w.wal_fpi,
       w.wal_bytes::bigint AS wal_bytes,
       w.wal_buffers_full,
       extract(epoch FROM w.stats_reset)::float8 AS wal_stats_reset_epoch,
       extract(epoch FROM clock_timestamp())::float8 AS sampled_at_epoch
FROM pg_stat_wal w
