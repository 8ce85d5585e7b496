-- Replication slots, physical and logical, and the WAL each keeps from removal, inactive first (pg_replication_slots).
SELECT s.slot_name,
       s.slot_type,
       s.plugin,
       s.database,
       s.active,
       s.active_pid,
       s.temporary,
       s.restart_lsn::text AS restart_lsn,
       s.confirmed_flush_lsn::text AS confirmed_flush_lsn,
       pg_wal_lsn_diff(p.position, s.restart_lsn)::bigint AS retained_wal_bytes,
       s.wal_status,
       s.safe_wal_size::bigint AS safe_wal_size_bytes,
       {{slot_inactive_since}} AS inactive_since
FROM pg_replication_slots s
CROSS JOIN (SELECT CASE WHEN pg_is_in_recovery() THEN pg_last_wal_replay_lsn() ELSE pg_current_wal_lsn() END
                   AS position) p
ORDER BY s.active, retained_wal_bytes DESC NULLS LAST, s.slot_name
