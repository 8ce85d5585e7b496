-- Transaction-id and multixact age of every database from pg_database.datfrozenxid / datminmxid.
-- The server stops assigning XIDs 3,000,000 short of the 2^31 - 1 wrap point (varsup.c xidStopLimit),
-- so "until wraparound" counts down to that stop limit, 2147483647 - 3000000 = 2144483647 XIDs of age.
SELECT d.datname AS database_name,
       age(d.datfrozenxid)::bigint AS age_xids,
       mxid_age(d.datminmxid)::bigint AS mxid_age,
       current_setting('autovacuum_freeze_max_age')::bigint AS autovacuum_freeze_max_age,
       2144483647 - age(d.datfrozenxid)::bigint AS xids_until_wraparound,
       100 * age(d.datfrozenxid)::float8 / 2144483647 AS percent_towards_wraparound,
       100 * age(d.datfrozenxid)::float8 / current_setting('autovacuum_freeze_max_age')::float8 AS percent_towards_freeze_max_age
FROM pg_database d
ORDER BY age(d.datfrozenxid) DESC, d.datname
