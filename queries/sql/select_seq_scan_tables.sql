-- Large tables read mostly by sequential scans, the missing-index candidates (pg_stat_user_tables, pg_class).
WITH scanned AS (
    SELECT s.schemaname, s.relname, s.seq_scan, s.seq_tup_read, s.idx_scan,
           s.seq_scan::float8 / nullif(s.seq_scan + coalesce(s.idx_scan, 0), 0) AS seq_scan_ratio,
           -- reltuples is -1 until the first VACUUM/ANALYZE; the live-row counter fills the gap
           CASE WHEN c.reltuples >= 0 THEN c.reltuples::bigint ELSE s.n_live_tup END AS estimated_rows
    FROM pg_stat_user_tables s
    JOIN pg_class c ON c.oid = s.relid
    WHERE s.seq_scan > 0
)
SELECT schemaname AS schema_name,
       relname AS table_name,
       seq_scan,
       seq_tup_read,
       idx_scan,
       seq_scan_ratio,
       estimated_rows,
       format('%s of its %s scans were sequential, reading %s rows in all, on a table of about %s rows',
              seq_scan, seq_scan + coalesce(idx_scan, 0), seq_tup_read, estimated_rows) AS reason,
       -- newlines are allowed in identifiers: keep the hint one comment line so nothing after it can run
       '-- look at the Queries page for statements filtering '
           || regexp_replace(format('%I.%I', schemaname, relname), '[\r\n]+', ' ', 'g')
           || ' and index their WHERE columns' AS fix_sql
FROM scanned
WHERE estimated_rows >= :min_rows
  AND seq_scan_ratio >= :min_seq_ratio
ORDER BY seq_tup_read DESC, schema_name, table_name
LIMIT :limit
