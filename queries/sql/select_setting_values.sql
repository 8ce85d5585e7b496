-- Every setting's value as the server runs with it, and whether a changed one waits for a restart (pg_settings).
-- The collector's own transaction sets statement_timeout, lock_timeout, jit and TimeZone locally (source 'session'):
-- for those the server's value is reset_val. Settings the client connection sets (application_name, client_encoding)
-- describe the collector's session, not the server: left out.
SELECT s.name,
       CASE WHEN s.source = 'session' THEN s.reset_val || coalesce(s.unit, '')
            ELSE current_setting(s.name) END AS value,
       s.pending_restart
FROM pg_settings s
WHERE s.source <> 'client'
ORDER BY s.name
