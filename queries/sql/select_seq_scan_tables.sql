-- Large tables by rows read sequentially, the missing-index candidates (pg_class, pg_index, pg_stat_get_numscans/_tuples_returned, pg_stat_database).
-- pg_stat_user_tables reads some twenty counters per table and sums every index's scans; this reads the few
-- needed, and only for tables already large enough: the size test comes first and costs nothing for analyzed tables.
WITH large AS MATERIALIZED (
    -- MATERIALIZED: the planner would otherwise order the cheaper-looking counter test first, for every table
    SELECT c.oid, n.nspname AS schemaname, c.relname,
           -- reltuples is -1 until the first VACUUM/ANALYZE; the live-row counter fills the gap
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE pg_stat_get_live_tuples(c.oid) END AS estimated_rows
    FROM pg_class c
    JOIN pg_namespace n ON n.oid = c.relnamespace
    -- pg_stat_all_tables' relkinds but 't': TOAST tables live in pg_toast* schemas, which are not user schemas,
    -- and leaving them out here keeps the row counter below from being read for each of them
    WHERE c.relkind IN ('r', 'm', 'p')
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
      AND CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE pg_stat_get_live_tuples(c.oid) END >= :min_rows
), scanned AS (
    SELECT l.schemaname, l.relname, l.estimated_rows,
           pg_stat_get_numscans(l.oid) AS seq_scan,
           pg_stat_get_tuples_returned(l.oid) AS seq_tup_read,
           -- NULL for a table without indexes, as in pg_stat_user_tables
           (SELECT sum(pg_stat_get_numscans(i.indexrelid)) FROM pg_index i WHERE i.indrelid = l.oid)::bigint AS idx_scan
    FROM large l
    WHERE pg_stat_get_numscans(l.oid) > 0
), counted_since AS (
    -- table counters are reset with the database's (pg_stat_reset); never reset: counted since the server started
    SELECT extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 AS seconds
    FROM pg_stat_database WHERE datname = current_database()
), rated AS (
    SELECT s.*, s.seq_scan::float8 / nullif(s.seq_scan + coalesce(s.idx_scan, 0), 0) AS seq_scan_ratio,
           s.seq_tup_read / nullif((SELECT seconds FROM counted_since), 0) AS seq_tup_read_per_second
    FROM scanned s
)
SELECT schemaname AS schema_name,
       relname AS table_name,
       seq_scan,
       seq_tup_read,
       idx_scan,
       seq_scan_ratio,
       seq_tup_read_per_second,
       estimated_rows,
       format('%s of its %s scans were sequential, reading %s rows in all (%s times the table), on a table of about %s rows',
              seq_scan, seq_scan + coalesce(idx_scan, 0), seq_tup_read,
              round(seq_tup_read::numeric / greatest(estimated_rows, 1), 1), estimated_rows) AS reason,
       -- newlines are allowed in identifiers: keep the hint one comment line so nothing after it can run
       '-- look at the Queries page for statements filtering '
           || regexp_replace(format('%I.%I', schemaname, relname), '[\r\n]+', ' ', 'g')
           || ' and index their WHERE columns' AS fix_sql
FROM rated
-- mostly sequential, or read in full many times over: an N+1 loop's key lookups can outnumber the full scans of a
-- table whose scans read hundreds of millions of rows, and that table needs an index the most
WHERE seq_scan_ratio >= :min_seq_ratio OR seq_tup_read >= :min_full_reads * greatest(estimated_rows, 1)
ORDER BY seq_tup_read_per_second DESC, seq_tup_read DESC, schema_name, table_name
LIMIT :limit
