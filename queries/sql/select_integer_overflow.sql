-- Integer and smallint columns fed by a sequence (serial, identity or DEFAULT nextval) against their type's limit, from pg_attribute, pg_depend and pg_sequence.
WITH int_columns AS (
    -- only columns that can be fed by a sequence: with a default (serial, nextval) or an identity
    SELECT a.attrelid, a.attnum, a.attname, a.atttypid, a.attidentity <> '' AS is_identity
    FROM pg_attribute a
    WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype)
      AND a.attnum > 0
      AND NOT a.attisdropped
      AND a.attinhcount = 0  -- partitions and child tables inherit the column: the fix belongs on the parent
      AND (a.atthasdef OR a.attidentity <> '')
), fed_columns AS (
    -- per-column index lookups (the scalar subquery becomes a parameter of the pg_depend index scan),
    -- so stale catalog statistics cannot turn this into a nested scan of all of pg_depend
    SELECT c.*, feeder.seq_oid
    FROM int_columns c
    CROSS JOIN LATERAL (
        -- DEFAULT nextval('some_seq') (serial or hand-made) depends on the sequence; refobjsubid 0 skips
        -- the default's dependency on its own column
        SELECT d.refobjid AS seq_oid
        FROM pg_depend d
        WHERE d.classid = 'pg_attrdef'::regclass
          AND d.objid = (SELECT ad.oid FROM pg_attrdef ad WHERE ad.adrelid = c.attrelid AND ad.adnum = c.attnum)
          AND d.refclassid = 'pg_class'::regclass AND d.refobjsubid = 0
        UNION ALL
        -- an identity column's sequence depends on the column (deptype 'i')
        SELECT d.objid
        FROM pg_depend d
        WHERE c.is_identity AND d.refclassid = 'pg_class'::regclass AND d.refobjid = c.attrelid
          AND d.refobjsubid = c.attnum AND d.classid = 'pg_class'::regclass AND d.deptype = 'i'
    ) feeder
), columns AS (
    SELECT tn.nspname, t.relname, f.attname, f.atttypid, f.is_identity,
           sn.nspname AS seq_schema, sc.relname AS seq_name, s.seqtypid, s.seqstart, s.seqincrement,
           CASE f.atttypid WHEN 'int2'::regtype THEN 32767 ELSE 2147483647 END AS type_max_value,
           has_sequence_privilege(sc.oid, 'SELECT,USAGE') AS can_read,
           CASE WHEN has_sequence_privilege(sc.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(sc.oid) END AS last_value
    FROM fed_columns f
    JOIN pg_class sc ON sc.oid = f.seq_oid AND sc.relkind = 'S'
    JOIN pg_sequence s ON s.seqrelid = sc.oid
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace
    JOIN pg_class t ON t.oid = f.attrelid AND t.relkind IN ('r', 'p')
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    WHERE NOT pg_is_other_temp_schema(sn.oid)
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
