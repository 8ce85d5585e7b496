-- When a replication slot became inactive (PostgreSQL 17+); not recorded before.
NULL::timestamptz
