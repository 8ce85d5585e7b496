-- Buffer-cache hit ratio of all user indexes of the current database (pg_statio_user_indexes).
SELECT sum(idx_blks_hit)::float8 / nullif(sum(idx_blks_hit + idx_blks_read), 0) AS hit_ratio
FROM pg_statio_user_indexes
