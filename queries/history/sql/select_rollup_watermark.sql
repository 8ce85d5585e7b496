-- Up to when a target's statement deltas are complete per hour (pgpulse.rollup_watermark); no row: nothing rolled up yet.
SELECT rolled_until FROM pgpulse.rollup_watermark WHERE target_id = :target_id
