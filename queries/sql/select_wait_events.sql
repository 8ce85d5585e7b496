-- Backends of every type that are not idle, counted by what they wait on (pg_stat_activity).
SELECT a.wait_event_type,
       a.wait_event,
       count(*)::int AS backend_count
FROM pg_stat_activity a
WHERE a.state IS DISTINCT FROM 'idle'
  -- 'Activity' is a background process waiting in its main loop: idle by another name
  AND a.wait_event_type IS DISTINCT FROM 'Activity'
GROUP BY a.wait_event_type, a.wait_event
ORDER BY backend_count DESC, a.wait_event_type NULLS FIRST, a.wait_event NULLS FIRST
