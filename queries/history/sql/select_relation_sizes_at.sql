-- Every relation's size as of one size collection, with its names (pgpulse.relation_size, relation_name).
-- The first collection of each UTC day stores every relation, later ones only what changed: the last row of the
-- day up to :at is the size then; NULL is a relation gone by then.
SELECT s.relid, n.kind, n.schema_name, n.relation_name, n.table_name, n.droppable, s.size_bytes
FROM (SELECT DISTINCT ON (relid) relid, size_bytes
      FROM pgpulse.relation_size
      WHERE target_id = :target_id
        AND sampled_at >= date_bin('1 day', :at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AND sampled_at <= :at
      ORDER BY relid, sampled_at DESC) s
JOIN pgpulse.relation_name n ON n.target_id = :target_id AND n.relid = s.relid
WHERE s.size_bytes IS NOT NULL
