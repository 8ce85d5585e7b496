-- Drops one day partition of a time-series table (pgpulse.drop_partition): retention and roll-up.
SELECT pgpulse.drop_partition(:partition_name)
