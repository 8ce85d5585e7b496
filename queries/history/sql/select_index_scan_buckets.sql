-- Scans per bucket of the given indexes over a range (pgpulse.index_scan_delta).
SELECT date_bin(:bucket, sampled_at, TIMESTAMPTZ '2000-01-01 00:00:00+00') AS bucket_start, relid,
       sum(idx_scan)::bigint AS index_scans
FROM pgpulse.index_scan_delta
WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end AND relid::bigint = ANY(:relids)
GROUP BY 1, 2
ORDER BY 1, 2
