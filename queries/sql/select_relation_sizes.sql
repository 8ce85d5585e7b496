-- Exact bytes of every user table (heap and TOAST with their maps and TOAST index) and every user index, by relid (pg_class, pg_index, pg_relation_size).
-- The collector's size snapshot: the same sums as select_table_sizes.sql, the indexes listed on their own rows,
-- and whether an index could be dropped (no constraint needs it), for the Indexes page's unused-over-a-range list.
SELECT c.oid AS relid,
       CASE WHEN c.relkind = 'i' THEN 'index' ELSE 'table' END AS kind,
       n.nspname::text AS schema_name,
       c.relname::text AS relation_name,
       coalesce(t.relname, c.relname)::text AS table_name,
       CASE WHEN c.relkind = 'i' THEN NOT (i.indisunique OR i.indisprimary OR i.indisreplident OR k.conindid IS NOT NULL)
       END AS droppable,
       CASE WHEN c.relkind = 'i' THEN pg_relation_size(c.oid)
            ELSE pg_relation_size(c.oid, 'main') + pg_relation_size(c.oid, 'fsm') + pg_relation_size(c.oid, 'vm')
                 + CASE WHEN c.reltoastrelid = 0 THEN 0
                        ELSE pg_relation_size(c.reltoastrelid, 'main') + pg_relation_size(c.reltoastrelid, 'fsm')
                             + pg_relation_size(c.reltoastrelid, 'vm') + coalesce(tx.bytes, 0)
                   END
       END::bigint AS size_bytes
FROM pg_class c
JOIN pg_namespace n ON n.oid = c.relnamespace
LEFT JOIN pg_index i ON i.indexrelid = c.oid
LEFT JOIN pg_class t ON t.oid = i.indrelid
-- hashed once: pg_constraint has no index on conindid, a lookup per index would scan it per index
LEFT JOIN (SELECT DISTINCT conindid FROM pg_constraint WHERE conindid <> 0) k ON k.conindid = c.oid
LEFT JOIN LATERAL (SELECT sum(pg_relation_size(x.indexrelid)) AS bytes
                   FROM pg_index x WHERE x.indrelid = c.reltoastrelid) tx ON c.relkind <> 'i'
WHERE c.relkind IN ('r', 'm', 'i')
  AND n.nspname NOT IN ('pg_catalog', 'information_schema')
  AND n.nspname !~ '^pg_toast'
ORDER BY c.oid
