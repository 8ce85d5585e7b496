-- When a replication slot became inactive (PostgreSQL 17+: pg_replication_slots.inactive_since).
s.inactive_since
