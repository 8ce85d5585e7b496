-- Serialises the roll-up against writes of late batches (pg_advisory_xact_lock): :exclusive for the roll-up, shared for a write.
SELECT CASE WHEN :exclusive THEN pg_advisory_xact_lock(hashtext('pgpulse.rollup'))::text
            ELSE pg_advisory_xact_lock_shared(hashtext('pgpulse.rollup'))::text END AS locked
