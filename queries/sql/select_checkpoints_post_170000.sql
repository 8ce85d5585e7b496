-- Checkpoints and the buffers written by them and the background writer (pg_stat_checkpointer, pg_stat_bgwriter, 17+).
SELECT c.num_timed AS checkpoints_timed,
       c.num_requested AS checkpoints_requested,
       c.write_time::float8 AS checkpoint_write_time_ms,
       c.sync_time::float8 AS checkpoint_sync_time_ms,
       c.buffers_written AS buffers_checkpoint,
       b.buffers_clean,
       b.maxwritten_clean,
       -- 17 moved backends' writes to pg_stat_io
       NULL::bigint AS buffers_backend,
       b.buffers_alloc,
       extract(epoch FROM current_setting('checkpoint_timeout')::interval)::float8 AS checkpoint_timeout_seconds,
       pg_size_bytes(current_setting('max_wal_size')) AS max_wal_size_bytes,
       extract(epoch FROM c.stats_reset)::float8 AS stats_reset_epoch
FROM pg_stat_checkpointer c
CROSS JOIN pg_stat_bgwriter b
