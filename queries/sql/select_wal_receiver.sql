-- This standby's WAL receiver: its primary, status, positions received and the age of the last message (pg_stat_wal_receiver).
SELECT pid,
       status,
       sender_host,
       sender_port,
       slot_name,
       received_tli,
       receive_start_lsn::text AS receive_start_lsn,
       written_lsn::text AS written_lsn,
       flushed_lsn::text AS flushed_lsn,
       latest_end_lsn::text AS latest_end_lsn,
       extract(epoch FROM now() - last_msg_receipt_time)::float8 AS last_message_age_seconds,
       extract(epoch FROM last_msg_receipt_time - last_msg_send_time)::float8 AS message_transit_seconds,
       extract(epoch FROM now() - latest_end_time)::float8 AS latest_end_age_seconds
FROM pg_stat_wal_receiver
