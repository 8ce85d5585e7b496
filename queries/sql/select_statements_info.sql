-- What tells a collector that pg_stat_statements' counters started again: its reset time and evictions (pg_stat_statements_info),
-- and the server's start time (a restart empties the view too).
SELECT i.dealloc,
       i.stats_reset,
       pg_postmaster_start_time() AS server_started_at,
       clock_timestamp() AS sampled_at
FROM pg_stat_statements_info i
