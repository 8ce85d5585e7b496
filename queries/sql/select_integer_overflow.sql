-- Integer and smallint columns fed by a sequence (serial, identity or DEFAULT nextval) against their type's limit, from pg_attribute, pg_depend and pg_sequence.
WITH fed_columns AS (
    -- from each sequence to the columns it feeds, by index lookups in pg_depend, pg_attrdef and pg_attribute: reading
    -- every column of every table first took 25 ms on 10,000 tables, and lookups per sequence keep stale catalog
    -- statistics from turning this into a nested scan of all of pg_depend
    SELECT sc.oid AS seq_oid, sn.nspname AS seq_schema, sc.relname AS seq_name, s.seqtypid, s.seqstart, s.seqincrement,
           a.attrelid, a.attname, a.atttypid, a.attidentity <> '' AS is_identity
    FROM pg_sequence s
    JOIN pg_class sc ON sc.oid = s.seqrelid AND sc.relkind = 'S'
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace
    CROSS JOIN LATERAL (
        -- DEFAULT nextval('some_seq') (serial or hand-made): the column's default depends on the sequence
        SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.attidentity, a.atthasdef, a.attisdropped, a.attinhcount
        FROM pg_depend d
        JOIN pg_attrdef ad ON ad.oid = d.objid
        JOIN pg_attribute a ON a.attrelid = ad.adrelid AND a.attnum = ad.adnum
        WHERE d.refclassid = 'pg_class'::regclass AND d.refobjid = sc.oid AND d.refobjsubid = 0
          AND d.classid = 'pg_attrdef'::regclass
        UNION ALL
        -- an identity column's sequence depends on the column (deptype 'i')
        SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.attidentity, a.atthasdef, a.attisdropped, a.attinhcount
        FROM pg_depend d
        JOIN pg_attribute a ON a.attrelid = d.refobjid AND a.attnum = d.refobjsubid
        WHERE d.classid = 'pg_class'::regclass AND d.objid = sc.oid
          AND d.refclassid = 'pg_class'::regclass AND d.deptype = 'i' AND a.attidentity <> ''
    ) a
    WHERE NOT pg_is_other_temp_schema(sn.oid)
      -- integer and smallint columns that can be fed by a sequence: with a default (serial, nextval) or an identity
      AND a.atttypid IN ('int2'::regtype, 'int4'::regtype)
      AND a.attnum > 0
      AND NOT a.attisdropped
      AND a.attinhcount = 0  -- partitions and child tables inherit the column: the fix belongs on the parent
      AND (a.atthasdef OR a.attidentity <> '')
), columns AS (
    SELECT tn.nspname, t.relname, f.attname, f.atttypid, f.is_identity,
           f.seq_schema, f.seq_name, f.seqtypid, f.seqstart, f.seqincrement,
           CASE f.atttypid WHEN 'int2'::regtype THEN 32767 ELSE 2147483647 END AS type_max_value,
           has_sequence_privilege(f.seq_oid, 'SELECT,USAGE') AS can_read,
           CASE WHEN has_sequence_privilege(f.seq_oid, 'SELECT,USAGE') THEN pg_sequence_last_value(f.seq_oid) END AS last_value
    FROM fed_columns f
    JOIN pg_class t ON t.oid = f.attrelid AND t.relkind IN ('r', 'p')
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
), usage AS (
    SELECT c.*,
           -- from the start towards the type's limit in the direction the sequence moves
           CASE WHEN NOT c.can_read THEN NULL
                WHEN c.last_value IS NULL THEN 0
                WHEN c.seqincrement > 0
                    THEN greatest(0, (c.last_value::float8 - c.seqstart) / nullif(c.type_max_value::float8 - c.seqstart, 0))
                ELSE greatest(0, (c.seqstart::float8 - c.last_value) / nullif(c.seqstart::float8 + c.type_max_value + 1, 0)) END
               AS used_ratio
    FROM columns c
)
SELECT u.nspname AS schema_name,
       u.relname AS table_name,
       u.attname AS column_name,
       format_type(u.atttypid, NULL) AS data_type,
       u.is_identity,
       u.seq_schema AS sequence_schema,
       u.seq_name AS sequence_name,
       format_type(u.seqtypid, NULL) AS sequence_data_type,
       u.last_value,
       u.type_max_value,
       u.used_ratio,
       CASE WHEN NOT u.can_read THEN 'unknown: this role needs SELECT or USAGE on the sequence to read last_value'
            WHEN u.last_value IS NULL THEN 'never used: nextval() has not been called yet'
            WHEN u.seqtypid <> u.atttypid
                THEN format('%s column fed by a %s sequence: inserts fail with "out of range" once the sequence passes the column''s limit',
                            format_type(u.atttypid, NULL), format_type(u.seqtypid, NULL))
            ELSE format('%s column and %s sequence: nextval() fails once the type''s limit is reached',
                        format_type(u.atttypid, NULL), format_type(u.seqtypid, NULL)) END AS reason,
       format('ALTER TABLE %I.%I ALTER COLUMN %I TYPE bigint', u.nspname, u.relname, u.attname) AS fix_sql,
       -- an identity column's sequence follows the column's new type; a serial's does not
       CASE WHEN NOT u.is_identity AND u.seqtypid <> 'int8'::regtype
            THEN format('ALTER SEQUENCE %I.%I AS bigint', u.seq_schema, u.seq_name) END AS sequence_fix_sql
FROM usage u
WHERE coalesce(u.used_ratio, 0) >= :min_ratio
ORDER BY u.used_ratio DESC NULLS LAST, u.nspname, u.relname, u.attname
LIMIT :limit
