-- Integer and smallint columns fed by a sequence (serial, identity or DEFAULT nextval) against their type's limit, from pg_depend, pg_attribute and pg_sequence.
WITH fed_columns AS (
    -- serial and identity columns own their sequence (OWNED BY: deptype 'a' or 'i' on the column)
    SELECT d.objid AS seq_oid, d.refobjid AS table_oid, d.refobjsubid AS attnum
    FROM pg_depend d
    WHERE d.classid = 'pg_class'::regclass AND d.refclassid = 'pg_class'::regclass
      AND d.refobjsubid > 0 AND d.deptype IN ('a', 'i')
    UNION
    -- a DEFAULT nextval('some_seq') depends on the sequence even when the column does not own it
    SELECT d.refobjid, ad.adrelid, ad.adnum
    FROM pg_depend d
    JOIN pg_attrdef ad ON ad.oid = d.objid
    WHERE d.classid = 'pg_attrdef'::regclass AND d.refclassid = 'pg_class'::regclass
), columns AS (
    SELECT tn.nspname, t.relname, a.attname, a.atttypid, a.attidentity <> '' AS is_identity,
           sn.nspname AS seq_schema, sc.relname AS seq_name, s.seqtypid, s.seqstart, s.seqincrement,
           CASE a.atttypid WHEN 'int2'::regtype THEN 32767 ELSE 2147483647 END AS type_max_value,
           CASE WHEN has_sequence_privilege(sc.oid, 'SELECT,USAGE') THEN pg_sequence_last_value(sc.oid) END AS last_value,
           has_sequence_privilege(sc.oid, 'SELECT,USAGE') AS can_read
    FROM fed_columns f
    JOIN pg_class sc ON sc.oid = f.seq_oid AND sc.relkind = 'S'
    JOIN pg_sequence s ON s.seqrelid = sc.oid
    JOIN pg_namespace sn ON sn.oid = sc.relnamespace
    JOIN pg_class t ON t.oid = f.table_oid AND t.relkind IN ('r', 'p')
    JOIN pg_namespace tn ON tn.oid = t.relnamespace
    JOIN pg_attribute a ON a.attrelid = f.table_oid AND a.attnum = f.attnum
    WHERE a.atttypid IN ('int2'::regtype, 'int4'::regtype)
      AND NOT a.attisdropped
      AND a.attinhcount = 0  -- partitions and child tables inherit the column: the fix belongs on the parent
      AND NOT pg_is_other_temp_schema(sn.oid)
), usage AS (
    SELECT c.*,
           -- from the start towards the type's limit in the direction the sequence moves
           greatest(0, CASE WHEN c.seqincrement > 0
                            THEN (c.last_value::float8 - c.seqstart) / nullif(c.type_max_value::float8 - c.seqstart, 0)
                            ELSE (c.seqstart::float8 - c.last_value) / nullif(c.seqstart::float8 + c.type_max_value + 1, 0) END) AS used_ratio
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
