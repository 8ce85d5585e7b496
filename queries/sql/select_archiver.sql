-- WAL archiving: files archived and failed, the last of each, and whether it fails now (pg_stat_archiver).
SELECT current_setting('archive_mode') AS archive_mode,
       a.archived_count,
       a.last_archived_wal,
       extract(epoch FROM a.last_archived_time)::float8 AS last_archived_at_epoch,
       a.failed_count,
       a.last_failed_wal,
       extract(epoch FROM a.last_failed_time)::float8 AS last_failed_at_epoch,
       -- failing: the last attempt failed (no success since the last failure)
       coalesce(a.last_failed_time > coalesce(a.last_archived_time, '-infinity'), false) AS failing,
       extract(epoch FROM a.stats_reset)::float8 AS stats_reset_epoch
FROM pg_stat_archiver a
