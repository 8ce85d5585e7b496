-- When a pg_stat_statements entry was created (PostgreSQL 17+: an evicted entry that comes back has a new one).
s.stats_since
