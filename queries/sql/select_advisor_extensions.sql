-- The extensions the index advisor uses, from pg_extension, pg_available_extensions and pg_proc: HypoPG to verify (and hide indexes, 1.4+), pg_trgm for trigram indexes.
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'hypopg') AS hypopg_version,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm') AS pg_trgm_version,
       EXISTS (SELECT FROM pg_available_extensions WHERE name = 'hypopg') AS hypopg_available,
       -- the function itself, not a version number: what-if drop needs exactly this (HypoPG 1.4 added it)
       EXISTS (SELECT FROM pg_proc p JOIN pg_extension e ON e.extnamespace = p.pronamespace AND e.extname = 'hypopg'
               WHERE p.proname = 'hypopg_hide_index') AS hypopg_can_hide
