-- Indexes made redundant by another valid index on the same table, compared on pg_index columns (NULLS NOT DISTINCT from PostgreSQL 15: fragments/index_nulls_not_distinct).
WITH shared_lead AS (
    -- a redundant index shares its table and its first key column (0 for an expression) with the
    -- index that covers it: grouping the bare pg_index rows first leaves the per-index work below
    -- (array slices, node-tree md5s, joins) to these few instead of every index of the catalog
    SELECT indrelid, indkey[0] AS lead_column
    FROM pg_index
    WHERE indisvalid
    GROUP BY indrelid, indkey[0]
    HAVING count(*) > 1
), indexes AS (
    SELECT i.indexrelid, i.indrelid, c.relam, c.relkind, i.indisunique, i.indisprimary,
           {{index_nulls_not_distinct}} AS nulls_not_distinct,
           i.indnkeyatts AS key_count,
           -- int2vector/oidvector arrays start at 0; slicing renumbers from 1 so prefixes compare with =
           (i.indkey::int2[])[0:i.indnatts - 1] AS columns,
           (i.indkey::int2[])[0:i.indnkeyatts - 1] AS key_columns,
           (i.indkey::int2[])[i.indnkeyatts:i.indnatts - 1] AS include_columns,
           (i.indclass::oid[])[0:i.indnkeyatts - 1] AS opclasses,
           (i.indcollation::oid[])[0:i.indnkeyatts - 1] AS collations,
           (i.indoption::int2[])[0:i.indnkeyatts - 1] AS options,
           -- stored node trees carry the statement's character offsets before PostgreSQL 17 ([:] keeps the bind
           -- parser off); md5 keeps the rows narrow enough to sort in memory
           md5(regexp_replace(i.indexprs::text, '[:]location -?\d+', '', 'g')) AS expressions,
           md5(regexp_replace(i.indpred::text, '[:]location -?\d+', '', 'g')) AS predicate,
           i.indisprimary OR i.indisreplident OR k.conindid IS NOT NULL AS is_needed
    FROM shared_lead s
    JOIN pg_index i ON i.indrelid = s.indrelid AND i.indkey[0] = s.lead_column
    JOIN pg_class c ON c.oid = i.indexrelid
    -- a join, not EXISTS per row: pg_constraint has no index on conindid, and a misestimated row count
    -- would make EXISTS scan it once per index
    LEFT JOIN (SELECT DISTINCT conindid FROM pg_constraint WHERE conindid <> 0) k ON k.conindid = i.indexrelid
    JOIN pg_class t ON t.oid = i.indrelid
    JOIN pg_namespace n ON n.oid = t.relnamespace
    WHERE i.indisvalid
      AND n.nspname NOT IN ('pg_catalog', 'information_schema')
      AND n.nspname !~ '^pg_toast'
), pairs AS (
    SELECT DISTINCT ON (a.indexrelid)
           a.indexrelid, a.indrelid, a.relkind, b.indexrelid AS covering_indexrelid,
           a.key_count = b.key_count AS same_keys, b.indisunique AS covering_is_unique
    FROM indexes a
    JOIN indexes b
      ON b.indrelid = a.indrelid
     AND b.indexrelid <> a.indexrelid
     AND b.relam = a.relam
     AND b.expressions IS NOT DISTINCT FROM a.expressions
     AND b.predicate IS NOT DISTINCT FROM a.predicate
     AND b.key_count >= a.key_count
     AND b.key_columns[1:a.key_count] = a.key_columns
     AND b.opclasses[1:a.key_count] = a.opclasses
     AND b.collations[1:a.key_count] = a.collations
     AND b.options[1:a.key_count] = a.options
     -- INCLUDE columns serve index-only scans: the other index must carry them too
     AND a.include_columns <@ b.columns
    WHERE NOT a.is_needed
      -- a partition's copy of a partitioned index cannot be dropped on its own
      AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = a.indexrelid)
      -- a unique index is only redundant to another enforcing at least its uniqueness on the same keys
      AND (NOT a.indisunique
           OR (b.indisunique AND b.key_count = a.key_count AND (b.nulls_not_distinct OR NOT a.nulls_not_distinct)))
      -- of two identical indexes keep the one a constraint needs, else the older (lower oid)
      AND (b.key_count > a.key_count OR b.indisunique <> a.indisunique OR b.nulls_not_distinct <> a.nulls_not_distinct
           OR b.is_needed OR b.indexrelid < a.indexrelid)
    -- show a covering index that is itself never flagged: unique first, then the longest, needed, oldest
    ORDER BY a.indexrelid, b.indisunique DESC, b.key_count DESC, b.nulls_not_distinct DESC, b.is_needed DESC, b.indexrelid
), top AS (
    SELECT p.*, pg_relation_size(p.indexrelid) AS size_bytes
    FROM pairs p
    ORDER BY size_bytes DESC NULLS LAST, p.indexrelid
    LIMIT :limit
)
SELECT n.nspname AS schema_name,
       t.relname AS table_name,
       a.relname AS index_name,
       b.relname AS covering_index_name,
       pg_get_indexdef(p.indexrelid) AS index_definition,
       pg_get_indexdef(p.covering_indexrelid) AS covering_definition,
       p.size_bytes,
       CASE WHEN NOT p.same_keys
                THEN format('its key columns are the leading key columns of %I, which can serve the same queries', b.relname)
            WHEN p.covering_is_unique
                THEN format('same key columns, operator classes, expressions and predicate as the unique index %I', b.relname)
            ELSE format('same key columns, operator classes, expressions and predicate as %I', b.relname)
       END AS reason,
       -- partitioned indexes cannot be dropped CONCURRENTLY
       CASE WHEN p.relkind = 'I' THEN format('DROP INDEX %I.%I;', n.nspname, a.relname)
            ELSE format('DROP INDEX CONCURRENTLY %I.%I;', n.nspname, a.relname)
       END AS fix_sql
FROM top p
JOIN pg_class a ON a.oid = p.indexrelid
JOIN pg_class b ON b.oid = p.covering_indexrelid
JOIN pg_class t ON t.oid = p.indrelid
JOIN pg_namespace n ON n.oid = a.relnamespace
ORDER BY p.size_bytes DESC NULLS LAST, schema_name, table_name, index_name
