-- How many indexes are droppable and scanned at most :max_scans times (pg_stat_user_indexes, pg_index); no sizes read.
SELECT count(*) AS unused_count
FROM pg_stat_user_indexes s
JOIN pg_index i ON i.indexrelid = s.indexrelid
WHERE s.idx_scan <= :max_scans
  AND NOT i.indisunique
  AND NOT i.indisprimary
  AND NOT i.indisreplident
  AND i.indisvalid
  AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid)
  AND NOT EXISTS (SELECT 1 FROM pg_inherits h WHERE h.inhrelid = i.indexrelid)
