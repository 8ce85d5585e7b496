-- Creates a day's partition of a time-series table if missing (pgpulse.ensure_partition); returns its name.
SELECT pgpulse.ensure_partition(:parent, :day) AS partition_name
