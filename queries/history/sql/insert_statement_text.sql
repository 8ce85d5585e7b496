-- Keeps a statement's (masked) text once per target and queryid (pgpulse.statement_text).
INSERT INTO pgpulse.statement_text (target_id, queryid, query, first_seen_at) VALUES (:target_id, :queryid, :query, :sampled_at)
ON CONFLICT (target_id, queryid) DO NOTHING
