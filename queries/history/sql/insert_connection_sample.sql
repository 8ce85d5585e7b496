-- Connections of one state at one sample (pgpulse.connection_sample).
INSERT INTO pgpulse.connection_sample (target_id, sampled_at, datid, state, connections)
VALUES (:target_id, :sampled_at, :datid, :state, :connections)
