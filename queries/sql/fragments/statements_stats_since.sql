-- When a pg_stat_statements entry was created (PostgreSQL 17+); NULL before, where only dealloc tells of evictions.
NULL::timestamptz
