-- Moves every target's roll-up watermark to the hour just rolled up (pgpulse.rollup_watermark).
INSERT INTO pgpulse.rollup_watermark (target_id, rolled_until)
SELECT target_id, :until FROM pgpulse.target
ON CONFLICT (target_id) DO UPDATE SET rolled_until = greatest(pgpulse.rollup_watermark.rolled_until, excluded.rolled_until)
