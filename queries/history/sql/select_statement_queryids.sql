-- The queryids whose text the store already holds for a target (pgpulse.statement_text).
SELECT queryid FROM pgpulse.statement_text WHERE target_id = :target_id
