-- Buffer-cache hits and reads of the current database from pg_stat_database.
SELECT d.blks_hit,
       d.blks_read,
       d.blks_hit::float8 / nullif(d.blks_hit + d.blks_read, 0) AS hit_ratio,
       extract(epoch FROM clock_timestamp())::float8 AS sampled_at_epoch
FROM pg_stat_database d
WHERE d.datname = current_database()
