-- Hide one index from the planner in this backend with HypoPG 1.4+ (hypopg_hide_index: memory only, nothing is dropped); NULL when the index is gone.
SELECT (SELECT hypopg_hide_index(c.oid)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = CAST(:schema_name AS text) AND c.relname = CAST(:index_name AS text)
          AND c.relkind = 'i') AS hidden
