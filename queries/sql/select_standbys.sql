-- Each standby (or WAL client) streaming from this server: state, positions, lag in bytes and time (pg_stat_replication).
SELECT r.pid,
       r.application_name,
       host(r.client_addr) AS client_addr,
       r.state,
       r.sync_state,
       r.sync_priority,
       r.sent_lsn::text AS sent_lsn,
       r.write_lsn::text AS write_lsn,
       r.flush_lsn::text AS flush_lsn,
       r.replay_lsn::text AS replay_lsn,
       pg_wal_lsn_diff(p.position, r.sent_lsn)::bigint AS send_lag_bytes,
       pg_wal_lsn_diff(p.position, r.replay_lsn)::bigint AS lag_bytes,
       -- NULL once a standby has caught up and nothing more is written: no lag
       coalesce(extract(epoch FROM r.write_lag), 0)::float8 AS write_lag_seconds,
       coalesce(extract(epoch FROM r.flush_lag), 0)::float8 AS flush_lag_seconds,
       coalesce(extract(epoch FROM r.replay_lag), 0)::float8 AS replay_lag_seconds,
       extract(epoch FROM now() - r.reply_time)::float8 AS last_reply_age_seconds,
       extract(epoch FROM now() - r.backend_start)::float8 AS connected_seconds
FROM pg_stat_replication r
CROSS JOIN (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END
                   AS position) p
ORDER BY lag_bytes DESC NULLS FIRST, r.application_name, r.pid
