-- Set one allow-listed planner setting for this EXPLAIN transaction only (set_config, local).
SELECT set_config(:name, :value, true) AS value
