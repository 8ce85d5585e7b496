-- The first and last collection the store holds for a target (pgpulse.statement_collection, database_delta, connection_sample).
SELECT min(first_at) AS first_at, max(last_at) AS last_at
FROM (SELECT min(sampled_at) AS first_at, max(sampled_at) AS last_at FROM pgpulse.statement_collection WHERE target_id = :target_id
      UNION ALL
      SELECT min(sampled_at), max(sampled_at) FROM pgpulse.database_delta WHERE target_id = :target_id
      UNION ALL
      SELECT min(sampled_at), max(sampled_at) FROM pgpulse.connection_sample WHERE target_id = :target_id) extents
