-- The stored texts of some statements of a target (pgpulse.statement_text).
SELECT queryid, query FROM pgpulse.statement_text WHERE target_id = :target_id AND queryid = ANY(:queryids)
