-- The store's id of a target by name (pgpulse.target), if it has ever been collected.
SELECT target_id FROM pgpulse.target WHERE name = :name
