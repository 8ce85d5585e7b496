-- Each index's scans over a range, and the span the index-scan collections of the range cover (pgpulse.index_scan_delta, metric_collection).
WITH counted AS (
    -- the first interval's start (a base collection counts from its own moment) to the last collection
    SELECT min(sampled_at - coalesce(interval_s, 0) * interval '1 second') AS counted_from, max(sampled_at) AS counted_to
    FROM pgpulse.metric_collection
    WHERE target_id = :target_id AND metric = 'index_scans' AND sampled_at >= :start AND sampled_at < :end
), scans AS (
    SELECT relid, sum(idx_scan)::bigint AS index_scans
    FROM pgpulse.index_scan_delta
    WHERE target_id = :target_id AND sampled_at >= :start AND sampled_at < :end
    GROUP BY relid
)
SELECT c.counted_from, c.counted_to, s.relid, s.index_scans
FROM counted c
LEFT JOIN scans s ON true
