-- Set this EXPLAIN transaction's statement, lock and idle timeouts (set_config, local) and read back transaction_read_only.
SELECT set_config('statement_timeout', :statement_timeout, true) AS statement_timeout,
       set_config('lock_timeout', :lock_timeout, true) AS lock_timeout,
       set_config('idle_in_transaction_session_timeout', :idle_timeout, true) AS idle_timeout,
       current_setting('transaction_read_only') AS transaction_read_only
