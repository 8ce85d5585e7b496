-- The named settings from pg_settings (rows hidden from this role, or unknown to this version, simply do not appear).
-- pgpulse sets statement_timeout, lock_timeout and jit locally for its own queries (source 'session'):
-- for those rows the server's value is reset_val, which is what is shown.
WITH settings AS (
    SELECT s.name,
           s.source = 'session' AS overridden_by_pgpulse,
           CASE WHEN s.source = 'session' THEN s.reset_val ELSE s.setting END AS setting,
           s.unit, s.category, s.source, s.boot_val, s.reset_val, s.pending_restart, s.short_desc
    FROM pg_settings s
    WHERE s.name = ANY(CAST(:names AS text[]))
)
SELECT s.name,
       s.setting,
       s.unit,
       -- current_setting() renders the value in its best unit (16384 x 8kB -> 128MB)
       CASE WHEN s.overridden_by_pgpulse THEN s.setting || coalesce(s.unit, '')
            ELSE current_setting(s.name) END AS value_display,
       s.category,
       CASE WHEN s.overridden_by_pgpulse THEN 'server (RESET value; pgpulse overrides it only for its own queries)'
            ELSE s.source END AS source,
       s.boot_val,
       s.reset_val,
       -- values the server derives itself (wal_buffers = -1 -> 512) differ from boot_val but are still its default
       -- (their source is 'override' before 15)
       s.setting = s.boot_val OR s.source IN ('default', 'override') AS is_default,
       s.pending_restart,
       s.short_desc
FROM settings s
ORDER BY array_position(CAST(:names AS text[]), s.name)
