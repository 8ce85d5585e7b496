-- Each relation's size at two size collections and its growth between them, biggest growers first (pgpulse.relation_size, relation_name).
-- The first collection of each UTC day stores every relation, later ones only what changed: the last row of the
-- day up to a collection is the size then; NULL is a relation gone by then.
WITH at_start AS (
    SELECT DISTINCT ON (relid) relid, size_bytes
    FROM pgpulse.relation_size
    WHERE target_id = :target_id
      AND sampled_at >= date_bin('1 day', :from_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AND sampled_at <= :from_at
    ORDER BY relid, sampled_at DESC
), at_end AS (
    SELECT DISTINCT ON (relid) relid, size_bytes
    FROM pgpulse.relation_size
    WHERE target_id = :target_id
      AND sampled_at >= date_bin('1 day', :to_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AND sampled_at <= :to_at
    ORDER BY relid, sampled_at DESC
)
SELECT n.kind, n.schema_name, n.table_name, n.relation_name, e.size_bytes,
       e.size_bytes - coalesce(s.size_bytes, 0) AS growth_bytes,
       coalesce(s.size_bytes, 0) AS start_size_bytes  -- created inside the range: grown from nothing
FROM at_end e
JOIN pgpulse.relation_name n ON n.target_id = :target_id AND n.relid = e.relid
LEFT JOIN at_start s ON s.relid = e.relid
WHERE e.size_bytes IS NOT NULL
ORDER BY growth_bytes DESC, e.size_bytes DESC, n.schema_name, n.relation_name
LIMIT :limit
