-- Each index present at a size collection with its scans over a range (pgpulse.relation_size, relation_name, index_scan_delta).
-- :only_unused keeps the droppable indexes not scanned once; fewest scans first, then largest.
WITH present AS (
    SELECT DISTINCT ON (s.relid) s.relid, s.size_bytes
    FROM pgpulse.relation_size s
    WHERE s.target_id = :target_id
      AND s.sampled_at >= date_bin('1 day', :sized_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AND s.sampled_at <= :sized_at
    ORDER BY s.relid, s.sampled_at DESC
), scans AS (
    SELECT relid, sum(idx_scan)::bigint AS index_scans
    FROM pgpulse.index_scan_delta
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
    GROUP BY relid
)
SELECT n.schema_name, n.table_name, n.relation_name AS index_name, coalesce(c.index_scans, 0) AS index_scans,
       p.size_bytes, n.droppable
FROM present p
JOIN pgpulse.relation_name n ON n.target_id = :target_id AND n.relid = p.relid AND n.kind = 'index'
LEFT JOIN scans c ON c.relid = p.relid
WHERE p.size_bytes IS NOT NULL
  AND (NOT :only_unused OR (c.index_scans IS NULL AND n.droppable))
ORDER BY index_scans, p.size_bytes DESC, n.schema_name, n.relation_name
