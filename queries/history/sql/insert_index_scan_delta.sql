-- One index's scans over one interval (pgpulse.index_scan_delta).
INSERT INTO pgpulse.index_scan_delta (target_id, relid, sampled_at, interval_s, idx_scan)
VALUES (:target_id, :relid, :sampled_at, :interval_s, :idx_scan)
