-- Scans per bucket of the :top indexes scanned most over a range (pgpulse.index_scan_delta, relation_name).
WITH busiest AS (
    SELECT relid
    FROM pgpulse.index_scan_delta
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
    GROUP BY relid
    ORDER BY sum(idx_scan) DESC, relid
    LIMIT :top
)
SELECT date_bin(:bucket, d.sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start,
       n.schema_name || '.' || n.relation_name AS index_name,
       sum(d.idx_scan)::bigint AS index_scans
FROM pgpulse.index_scan_delta d
JOIN busiest b ON b.relid = d.relid
JOIN pgpulse.relation_name n ON n.target_id = d.target_id AND n.relid = d.relid
WHERE d.target_id = :target_id AND d.sampled_at >= :start AND d.sampled_at < :end
GROUP BY 1, 2
ORDER BY 1, 2
