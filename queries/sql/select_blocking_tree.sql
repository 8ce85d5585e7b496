-- Lock waits as trees: who blocks whom, what lock is awaited and on which relation (pg_stat_activity, pg_blocking_pids, pg_locks).
WITH RECURSIVE waiting AS (
    -- only a heavyweight-lock wait can have blockers: skip the lock-manager scan for everyone else
    SELECT a.pid, pg_blocking_pids(a.pid) AS blocked_by
    FROM pg_stat_activity a
    WHERE a.wait_event_type = 'Lock'
), edges AS (
    -- parallel queries can list the same leader twice
    SELECT DISTINCT w.pid AS blocked_pid, b.blocking_pid
    FROM waiting w
    CROSS JOIN LATERAL unnest(w.blocked_by) AS b(blocking_pid)
), tree AS (
    SELECT DISTINCT e.blocking_pid AS pid, NULL::int AS blocking_pid, e.blocking_pid AS root_pid, 0 AS depth,
           ARRAY[e.blocking_pid] AS pids
    FROM edges e
    WHERE NOT EXISTS (SELECT 1 FROM edges blocked WHERE blocked.blocked_pid = e.blocking_pid)
    UNION ALL
    SELECT e.blocked_pid, e.blocking_pid, t.root_pid, t.depth + 1, t.pids || e.blocked_pid
    FROM tree t
    JOIN edges e ON e.blocking_pid = t.pid
    WHERE e.blocked_pid <> ALL (t.pids)  -- a deadlock is a cycle until the detector breaks it
), locks AS (
    SELECT l.* FROM pg_locks l WHERE l.pid IN (SELECT pid FROM tree)
), awaited AS (
    SELECT l.* FROM locks l WHERE NOT l.granted
)
SELECT t.pid,
       t.blocking_pid,
       t.root_pid,
       t.depth,
       array_to_string(t.pids, ' > ') AS path,
       a.usename AS user_name,
       a.datname AS database_name,
       a.state,
       CASE WHEN t.depth = 0 THEN extract(epoch FROM clock_timestamp() - a.xact_start)
            ELSE extract(epoch FROM clock_timestamp() - coalesce(w.waitstart, a.state_change))
       END::float8 AS wait_seconds,
       coalesce(w.mode, h.mode) AS lock_mode,
       coalesce(w.locktype, h.locktype) AS locktype,
       CASE WHEN c.oid IS NOT NULL THEN format('%I.%I', n.nspname, c.relname) END AS relation,
       a.query,
       a.backend_type
FROM tree t
LEFT JOIN pg_stat_activity a ON a.pid = t.pid
LEFT JOIN awaited w ON w.pid = t.pid AND t.depth > 0
LEFT JOIN LATERAL (
    -- a root waits for nothing: show the strongest lock it holds on what its first victim awaits
    SELECT held.mode, held.locktype, held.database, held.relation
    FROM tree child
    JOIN awaited victim ON victim.pid = child.pid
    JOIN locks held ON held.pid = t.pid AND held.granted
        AND held.locktype = victim.locktype
        AND held.database IS NOT DISTINCT FROM victim.database
        AND held.relation IS NOT DISTINCT FROM victim.relation
        AND held.page IS NOT DISTINCT FROM victim.page
        AND held.tuple IS NOT DISTINCT FROM victim.tuple
        AND held.virtualxid IS NOT DISTINCT FROM victim.virtualxid
        AND held.transactionid IS NOT DISTINCT FROM victim.transactionid
        AND held.classid IS NOT DISTINCT FROM victim.classid
        AND held.objid IS NOT DISTINCT FROM victim.objid
        AND held.objsubid IS NOT DISTINCT FROM victim.objsubid
    WHERE t.depth = 0 AND child.blocking_pid = t.pid
    ORDER BY child.pid, array_position(ARRAY['AccessShareLock', 'RowShareLock', 'RowExclusiveLock',
             'ShareUpdateExclusiveLock', 'ShareLock', 'ShareRowExclusiveLock', 'ExclusiveLock',
             'AccessExclusiveLock'], held.mode) DESC NULLS LAST
    LIMIT 1
) h ON true
-- relation OIDs only resolve in their own database (0: a shared catalog)
LEFT JOIN pg_class c ON c.oid = coalesce(w.relation, h.relation)
    AND coalesce(w.database, h.database) IN (0, (SELECT oid FROM pg_database WHERE datname = current_database()))
LEFT JOIN pg_namespace n ON n.oid = c.relnamespace
ORDER BY t.root_pid, t.pids
LIMIT :limit
