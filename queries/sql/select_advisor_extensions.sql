-- The extensions the index advisor uses, from pg_extension and pg_available_extensions: HypoPG to verify, pg_trgm for trigram indexes.
SELECT (SELECT extversion FROM pg_extension WHERE extname = 'hypopg') AS hypopg_version,
       (SELECT extversion FROM pg_extension WHERE extname = 'pg_trgm') AS pg_trgm_version,
       EXISTS (SELECT FROM pg_available_extensions WHERE name = 'hypopg') AS hypopg_available
