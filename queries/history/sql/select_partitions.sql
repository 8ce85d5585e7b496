-- The day partitions of the store's time-series tables (pg_inherits), with the day each one holds.
SELECT parent.relname AS parent, child.relname AS partition_name,
       to_date(right(child.relname, 8), 'YYYYMMDD') AS day
FROM pg_inherits i
JOIN pg_class child ON child.oid = i.inhrelid
JOIN pg_class parent ON parent.oid = i.inhparent
JOIN pg_namespace n ON n.oid = parent.relnamespace
WHERE n.nspname = 'pgpulse' AND child.relname ~ '_p[0-9]{8}$'
ORDER BY parent.relname, day
