-- Set an action's statement timeout and a 1 s lock timeout (set_config, local to its transaction) so it never queues behind a migration.
SELECT set_config('statement_timeout', :statement_timeout, true) AS statement_timeout,
       set_config('lock_timeout', '1000ms', true) AS lock_timeout
