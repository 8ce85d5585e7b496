-- Estimated bytes of every user table (heap and TOAST with its index) and index from pg_class.relpages, by relid (pg_class, pg_index).
-- select_relation_sizes.sql's columns without a file lookup or a relation lock: the collector's fallback when the
-- exact read hits the statement or lock timeout. relpages is as fresh as the last VACUUM, ANALYZE or CREATE INDEX.
SELECT c.oid AS relid,
       CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS kind,
       n.nspname::text AS schema_name,
       c.relname::text AS relation_name,
       coalesce(t.relname, c.relname)::text AS table_name,
       CASE WHEN c.relkind = 'i' THEN NOT (i.indisunique OR i.indisprimary OR i.indisreplident OR k.conindid IS NOT NULL)
       END AS droppable,
       ((c.relpages::bigint + coalesce(tc.relpages, 0) + coalesce(tx.pages, 0))
        * current_setting('block_size')::bigint) AS size_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
-- hashed once: pg_constraint has no index on conindid
LEFT JOIN (SELECT DISTINCT conindid FROM pg_constraint WHERE conindid <> 0) k ON k.conindid = c.oid
LEFT JOIN pg_class tc ON tc.oid = c.reltoastrelid
LEFT JOIN (SELECT x.indrelid, sum(xc.relpages)::bigint AS pages
           FROM pg_index x JOIN pg_class xc ON xc.oid = x.indexrelid
           JOIN pg_class toast ON toast.oid = x.indrelid AND toast.relkind = 't'
           GROUP BY x.indrelid) tx ON tx.indrelid = c.reltoastrelid
WHERE c.relkind IN ('r', 'm', 'i')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
ORDER BY c.oid
