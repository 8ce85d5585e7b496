-- How much of its range each sequence has used (pg_sequence, last_value as pg_sequences reads it) and the column that owns it (pg_depend).
WITH sequences AS (
    SELECT c.oid AS seq_oid, n.nspname, c.relname, s.seqtypid, s.seqstart, s.seqmin, s.seqmax, s.seqincrement, s.seqcycle,
           has_sequence_privilege(c.oid, 'SELECT,USAGE') AS can_read,
           -- as in pg_sequences: NULL when never used or when this role may not read it
           CASE WHEN has_sequence_privilege(c.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(c.oid) END AS last_value
    FROM pg_sequence s
    JOIN pg_class c ON c.oid = s.seqrelid
    JOIN pg_namespace n ON n.oid = c.relnamespace
    WHERE NOT pg_is_other_temp_schema(n.oid)
), usage AS (
    SELECT q.*,
           -- measured from the start towards the end the sequence moves to; float8 so bigint ends cannot overflow
           CASE WHEN NOT q.can_read THEN NULL
                WHEN q.last_value IS NULL THEN 0
                WHEN q.seqincrement > 0
                    THEN greatest(0, (q.last_value::float8 - q.seqstart) / nullif(q.seqmax::float8 - q.seqstart, 0))
                ELSE greatest(0, (q.seqstart::float8 - q.last_value) / nullif(q.seqstart::float8 - q.seqmin, 0)) END AS used_ratio
    FROM sequences q
)
SELECT u.nspname AS schema_name,
       u.relname AS sequence_name,
       format_type(u.seqtypid, NULL) AS data_type,
       u.last_value,
       u.seqmin AS min_value,
       u.seqmax AS max_value,
       u.seqincrement AS increment_by,
       u.seqcycle AS cycles,
       u.used_ratio,
       -- exact numeric, not float8: a float near 9.2e18 rounds up past the bigint limit and the cast fails; a range
       -- wider than bigint (min -2^63 to max 2^63-1, increment 1) is reported as the bigint limit
       CASE WHEN u.last_value IS NULL THEN NULL
            ELSE least(div(CASE WHEN u.seqincrement > 0 THEN u.seqmax::numeric - u.last_value
                                ELSE u.last_value::numeric - u.seqmin END,
                           abs(u.seqincrement::numeric)), 9223372036854775807)::bigint END AS values_remaining,
       CASE WHEN t.oid IS NOT NULL THEN format('%I.%I.%I', tn.nspname, t.relname, a.attname) END AS owned_by,
       CASE WHEN NOT u.can_read THEN 'unknown: this role needs SELECT or USAGE on the sequence to read last_value'
            WHEN u.last_value IS NULL THEN 'never used: nextval() has not been called yet'
            WHEN u.seqcycle AND u.seqincrement > 0 THEN 'CYCLE: after max_value it restarts at min_value and values repeat'
            WHEN u.seqcycle THEN 'CYCLE: after min_value it restarts at max_value and values repeat'
            WHEN u.seqincrement > 0 THEN 'nextval() fails once max_value is reached'
            ELSE 'nextval() fails once min_value is reached' END AS reason
FROM usage u
-- OWNED BY (serial: deptype 'a', identity: 'i') ties the sequence to one column
LEFT JOIN pg_depend d ON d.classid = 'pg_class'::regclass AND d.objid = u.seq_oid
                     AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
LEFT JOIN pg_class t ON t.oid = d.refobjid
LEFT JOIN pg_namespace tn ON tn.oid = t.relnamespace
LEFT JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
WHERE coalesce(u.used_ratio, 0) >= :min_ratio
ORDER BY u.used_ratio DESC NULLS LAST, u.nspname, u.relname
LIMIT :limit
