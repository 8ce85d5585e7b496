-- Takes the session advisory lock that makes one collector the only one polling a target (pg_try_advisory_lock).
SELECT pg_try_advisory_lock(hashtextextended('pgpulse.collector/' || :name, 0)) AS locked
