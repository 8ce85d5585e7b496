-- Whether a unique index treats NULLs as equal (PostgreSQL 15+: pg_index.indnullsnotdistinct).
i.indnullsnotdistinct
