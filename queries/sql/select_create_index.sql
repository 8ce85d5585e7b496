-- Format a suggested CREATE INDEX (method, operator class, partial-index predicate) with identifiers quoted by format('%I').
SELECT format('CREATE INDEX ON %s%s (%s)%s',
              CASE WHEN CAST(:schema_name AS text) = 'public' THEN format('%I', CAST(:table_name AS text))
                   ELSE format('%I.%I', CAST(:schema_name AS text), CAST(:table_name AS text)) END,
              CASE WHEN CAST(:method AS text) = 'btree' THEN '' ELSE format(' USING %I', CAST(:method AS text)) END,
              (SELECT string_agg(format('%I', name) || coalesce(' ' || CAST(:opclass AS text), ''), ', ' ORDER BY position)
                 FROM unnest(CAST(:column_names AS text[])) WITH ORDINALITY AS c(name, position)),
              -- the tests are pgpulse's own constants (queries/advisors/indexes.py PARTIAL_TESTS), never a statement's text;
              -- booleans as the planner folds them (= true: the column, = false: NOT it), the form HypoPG can match
              coalesce(' WHERE ' || (SELECT string_agg(CASE test WHEN '= true' THEN format('%I', name)
                                                                 WHEN '= false' THEN format('NOT %I', name)
                                                                 ELSE format('%I %s', name, test) END,
                                                       ' AND ' ORDER BY position)
                 FROM unnest(CAST(:predicate_columns AS text[]), CAST(:predicate_tests AS text[]))
                      WITH ORDINALITY AS p(name, test, position)), '')) AS create_index
