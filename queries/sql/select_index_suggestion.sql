-- Format a suggested CREATE INDEX for a relation and columns read from a plan, identifiers quoted by format('%I').
SELECT format('CREATE INDEX ON %s (%s)',
              CASE WHEN CAST(:schema_name AS text) IS NULL THEN format('%I', CAST(:relation_name AS text))
                   ELSE format('%I.%I', CAST(:schema_name AS text), CAST(:relation_name AS text)) END,
              (SELECT string_agg(format('%I', name), ', ' ORDER BY position)
                 FROM unnest(CAST(:column_names AS text[])) WITH ORDINALITY AS c(name, position))) AS statement
