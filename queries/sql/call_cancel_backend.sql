-- Cancel one backend's running query (pg_cancel_backend); true when the signal was sent.
SELECT pg_cancel_backend(:pid) AS signalled
