-- A late bucket's combinations (written after its hour was rolled up) added to that hour too (pgpulse.activity_load_hourly).
INSERT INTO pgpulse.activity_load_hourly (target_id, sampled_at, state, wait_event_type, wait_event, query_id, user_name,
                                          application_name, database_name, client_addr, backend_type, samples)
VALUES (:target_id, date_trunc('hour', CAST(:sampled_at AS timestamptz), 'UTC'), :state, :wait_event_type, :wait_event,
        :query_id, :user_name, :application_name, :database_name, :client_addr, :backend_type, :samples)
