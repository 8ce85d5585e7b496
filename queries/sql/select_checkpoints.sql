-- Checkpoints and the buffers written by them, the background writer and backends (pg_stat_bgwriter, PostgreSQL 14-16).
SELECT checkpoints_timed,
       checkpoints_req AS checkpoints_requested,
       checkpoint_write_time::float8 AS checkpoint_write_time_ms,
       checkpoint_sync_time::float8 AS checkpoint_sync_time_ms,
       buffers_checkpoint,
       buffers_clean,
       maxwritten_clean,
       buffers_backend,
       buffers_alloc,
       extract(epoch FROM current_setting('checkpoint_timeout')::interval)::float8 AS checkpoint_timeout_seconds,
       pg_size_bytes(current_setting('max_wal_size')) AS max_wal_size_bytes,
       extract(epoch FROM stats_reset)::float8 AS stats_reset_epoch
FROM pg_stat_bgwriter
