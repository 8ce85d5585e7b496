-- Indexes of the current database's user tables from pg_index: key columns in order (NULL for an expression), kind and validity.
SELECT ns.nspname AS schema_name,
       t.relname AS table_name,
       i.relname AS index_name,
       ARRAY(SELECT a.attname::text FROM unnest(x.indkey[0:x.indnkeyatts - 1]) WITH ORDINALITY k(attnum, n)
             LEFT JOIN pg_attribute a ON a.attrelid = x.indrelid AND a.attnum = k.attnum ORDER BY k.n) AS key_columns,
       am.amname AS access_method,
       x.indisunique AS is_unique,
       x.indisprimary AS is_primary,
       x.indisvalid AND x.indisready AS is_valid,
       x.indpred IS NOT NULL AS is_partial,
       pg_get_expr(x.indpred, x.indrelid) AS predicate
FROM pg_index x
JOIN pg_class i ON i.oid = x.indexrelid
JOIN pg_class t ON t.oid = x.indrelid
JOIN pg_namespace ns ON ns.oid = t.relnamespace
JOIN pg_am am ON am.oid = i.relam
WHERE ns.nspname NOT IN ('pg_catalog', 'information_schema', 'pg_toast')
ORDER BY ns.nspname, t.relname, i.relname
