-- Client backends counted by state, database, user, application and client address (pg_stat_activity).
SELECT a.state,
       a.datname AS database_name,
       a.usename AS user_name,
       a.application_name,
       host(a.client_addr) AS client_addr,
       count(*)::int AS connection_count
FROM pg_stat_activity a
WHERE a.backend_type = 'client backend'
GROUP BY a.state, a.datname, a.usename, a.application_name, host(a.client_addr)
ORDER BY connection_count DESC, a.state, a.datname, a.usename, a.application_name, host(a.client_addr)
