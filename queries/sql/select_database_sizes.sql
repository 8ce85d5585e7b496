-- Size of every database that accepts connections, from pg_database (NULL where this role lacks CONNECT).
SELECT d.datname AS database_name,
       -- pg_database_size raises 42501 without CONNECT: the CASE keeps one database from failing the list
       CASE WHEN has_database_privilege(d.oid, 'CONNECT') THEN pg_database_size(d.oid) END AS size_bytes
FROM pg_database d
WHERE d.datallowconn
ORDER BY size_bytes DESC NULLS LAST, d.datname
