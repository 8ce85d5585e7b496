-- One combination's session samples in a bucket (pgpulse.activity_load).
INSERT INTO pgpulse.activity_load (target_id, sampled_at, state, wait_event_type, wait_event, query_id, user_name,
                                   application_name, database_name, client_addr, backend_type, samples)
VALUES (:target_id, :sampled_at, :state, :wait_event_type, :wait_event, :query_id, :user_name, :application_name,
        :database_name, :client_addr, :backend_type, :samples)
