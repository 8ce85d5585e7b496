-- Releases a target's collector lock (pg_advisory_unlock) when another collector wrote its history meanwhile.
SELECT pg_advisory_unlock(hashtextextended('pgpulse.collector/' || :name, 0)) AS released
