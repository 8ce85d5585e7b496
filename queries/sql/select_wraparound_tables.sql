-- Transaction-id and multixact age of the oldest tables, materialized views and TOAST tables from pg_class.relfrozenxid / relminmxid.
-- xids_until_wraparound counts down to the stop limit 3,000,000 short of 2^31 - 1 (varsup.c xidStopLimit).
WITH oldest AS (
    SELECT c.oid, c.relnamespace, c.relname, c.relkind, c.reloptions,
           age(c.relfrozenxid)::bigint AS age_xids,
           mxid_age(c.relminmxid)::bigint AS mxid_age
    FROM pg_class c
    WHERE c.relkind IN ('r', 'm', 't')
    ORDER BY age(c.relfrozenxid) DESC, c.oid
    LIMIT :limit
), freeze_limits AS (
    -- a per-table autovacuum_freeze_max_age can only lower the server's (autovacuum.c takes the minimum)
    SELECT o.*,
           least(current_setting('autovacuum_freeze_max_age')::bigint,
                 (SELECT option_value::bigint FROM pg_options_to_table(o.reloptions)
                  WHERE option_name = 'autovacuum_freeze_max_age')) AS freeze_max_age
    FROM oldest o
)
SELECT n.nspname AS schema_name,
       f.relname AS table_name,
       CASE f.relkind WHEN 'r' THEN 'table' WHEN 'm' THEN 'materialized view' ELSE 'toast' END AS table_kind,
       -- a TOAST table's own name (pg_toast_16384) says nothing: name the table it belongs to
       CASE WHEN p.oid IS NOT NULL THEN format('%I.%I', pn.nspname, p.relname) END AS toast_of,
       f.age_xids,
       f.mxid_age,
       f.freeze_max_age AS autovacuum_freeze_max_age,
       100 * f.age_xids::float8 / f.freeze_max_age AS percent_towards_freeze_max_age,
       2144483647 - f.age_xids AS xids_until_wraparound
FROM freeze_limits f
JOIN pg_namespace n ON n.oid = f.relnamespace
LEFT JOIN LATERAL (
    -- the table whose reltoastrelid this is. TOAST tables are named pg_toast_<oid of their table>: try that oid
    -- first (an index lookup) and search all of pg_class (10 ms on 60,000 relations) only if the name does not tell
    SELECT CASE WHEN f.relkind = 't' THEN coalesce(
        (SELECT p.oid FROM pg_class p
         WHERE p.oid = CASE WHEN f.relname ~ '^pg_toast_[0-9]{1,10}$'
                            THEN CASE WHEN substr(f.relname, 10)::bigint <= 4294967295 THEN substr(f.relname, 10)::oid END END
           AND p.reltoastrelid = f.oid),
        (SELECT p.oid FROM pg_class p WHERE p.reltoastrelid = f.oid)) END AS oid
) owner ON true
LEFT JOIN pg_class p ON p.oid = owner.oid
LEFT JOIN pg_namespace pn ON pn.oid = p.relnamespace
ORDER BY f.age_xids DESC, n.nspname, f.relname
