-- How many entries pg_stat_statements holds (fails with 55000 when the library is not preloaded).
SELECT count(*) AS statement_count FROM pg_stat_statements
