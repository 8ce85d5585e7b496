-- The ANALYZE command for one existing table or materialized view (pg_class), its name quoted by format('%I'); NULL when there is none.
SELECT (SELECT format('ANALYZE %I.%I', n.nspname, c.relname)
        FROM pg_class c
        JOIN pg_namespace n ON n.oid = c.relnamespace
        WHERE n.nspname = CAST(:schema_name AS text) AND c.relname = CAST(:table_name AS text)
          AND c.relkind IN ('r', 'm', 'p')) AS command
