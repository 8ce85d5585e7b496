-- Forgets entries gone from the view (evicted or reset): when one comes back, its whole value is new (pgpulse.counter_state).
DELETE FROM pgpulse.counter_state WHERE target_id = :target_id AND metric = :metric AND entry = ANY(:entries)
