-- The named settings from pg_settings (rows hidden from this role, or unknown to this version, simply do not appear).
SELECT s.name,
       s.setting,
       s.unit,
       -- current_setting() renders the value in its best unit (16384 x 8kB -> 128MB)
       current_setting(s.name) AS value_display,
       s.category,
       s.source,
       s.boot_val,
       s.reset_val,
       -- values the server derives itself (wal_buffers = -1 -> 512) differ from boot_val but are still its default
       s.setting = s.boot_val OR s.source = 'default' AS is_default,
       s.pending_restart,
       s.short_desc
FROM pg_settings s
WHERE s.name = ANY(CAST(:names AS text[]))
ORDER BY array_position(CAST(:names AS text[]), s.name)
