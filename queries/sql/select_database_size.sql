-- The current database's size (pg_database_size), for the collector.
SELECT d.oid AS datid, pg_database_size(d.oid) AS size_bytes
FROM pg_database d
WHERE d.datname = current_database()
