-- Whether a unique index treats NULLs as equal (PostgreSQL 14: never, there is no NULLS NOT DISTINCT).
false
