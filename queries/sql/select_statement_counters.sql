-- The collector's snapshot of pg_stat_statements for the current database: every counter pgpulse shows, raw, per entry.
-- :with_text false leaves the texts out (showtext): reading pg_stat_statements' text file is most of the view's cost,
-- so the collector reads counters alone and the texts of new entries by select_statement_texts.
-- An entry is (dbid, userid, queryid, toplevel); its counters only grow until a reset, a restart or an eviction.
SELECT s.dbid,
       s.userid,
       s.queryid,
       s.toplevel,
       s.query,
       s.calls,
       s.total_exec_time AS total_exec_time_ms,
       s.total_plan_time AS total_plan_time_ms,
       s.rows,
       s.shared_blks_hit,
       s.shared_blks_read,
       s.shared_blks_dirtied,
       s.shared_blks_written,
       s.temp_blks_read,
       s.temp_blks_written,
       {{statements_io_time_columns}},
       s.wal_records,
       s.wal_bytes::float8 AS wal_bytes,
       {{statements_stats_since}} AS stats_since
FROM pg_stat_statements(:with_text) s
WHERE s.dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
  AND s.queryid IS NOT NULL
