-- End one backend's session (pg_terminate_backend); true when the signal was sent.
SELECT pg_terminate_backend(:pid) AS signalled
