"""The first history schema: targets, statement texts, the collector's last snapshot, and the time-partitioned
deltas (statements, database counters), connection samples and one row per statement collection.

Revision ID: 0001
Revises:
"""
from alembic import op

from queries.history.schema import statements

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

# Every time-series table is partitioned by range of sampled_at, one partition per UTC day, named <table>_pYYYYMMDD:
# retention drops whole partitions, never DELETEs rows.
UPGRADE = """
CREATE TABLE pgpulse.target (
    target_id serial PRIMARY KEY,
    name text NOT NULL UNIQUE,
    location text NOT NULL,  -- host:port/dbname, never a URL or a password
    first_seen_at timestamptz NOT NULL DEFAULT now()
);
CREATE TABLE pgpulse.statement_text (
    target_id int NOT NULL REFERENCES pgpulse.target ON DELETE CASCADE,
    queryid bigint NOT NULL,
    query text NOT NULL,  -- masked (errors.scrub) before it is written
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, queryid)
);
-- the collector's last snapshot of each metric, so a restarted collector continues where it stopped
CREATE TABLE pgpulse.collector_state (
    target_id int NOT NULL REFERENCES pgpulse.target ON DELETE CASCADE,
    metric text NOT NULL,
    sampled_at timestamptz NOT NULL,
    stats_reset timestamptz,
    server_started_at timestamptz,
    dealloc bigint,
    PRIMARY KEY (target_id, metric)
);
CREATE TABLE pgpulse.counter_state (
    target_id int NOT NULL REFERENCES pgpulse.target ON DELETE CASCADE,
    metric text NOT NULL,
    entry text NOT NULL,  -- the key columns' values joined by '/'
    counters float8[] NOT NULL,
    stats_since timestamptz,
    PRIMARY KEY (target_id, metric, entry)
);
CREATE TABLE pgpulse.statement_delta (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the end of the interval the delta covers
    interval_s real NOT NULL,
    dbid oid NOT NULL,
    userid oid NOT NULL,
    queryid bigint NOT NULL,
    toplevel boolean NOT NULL,
    calls bigint NOT NULL,
    total_exec_time_ms float8 NOT NULL,
    total_plan_time_ms float8 NOT NULL,
    rows bigint NOT NULL,
    shared_blks_hit bigint NOT NULL,
    shared_blks_read bigint NOT NULL,
    shared_blks_dirtied bigint NOT NULL,
    shared_blks_written bigint NOT NULL,
    temp_blks_read bigint NOT NULL,
    temp_blks_written bigint NOT NULL,
    io_read_time_ms float8 NOT NULL,
    io_write_time_ms float8 NOT NULL,
    wal_records bigint NOT NULL,
    wal_bytes float8 NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX statement_delta_target_time ON pgpulse.statement_delta (target_id, sampled_at);
CREATE INDEX statement_delta_target_query ON pgpulse.statement_delta (target_id, queryid, sampled_at);
-- one row per statement collection: what was read (a collection with no delta rows is a quiet interval, not a gap)
CREATE TABLE pgpulse.statement_collection (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,
    interval_s real NOT NULL,
    entries int NOT NULL,
    evictions bigint,  -- pg_stat_statements_info.dealloc over the interval: churn when pg_stat_statements.max is small
    stats_reset boolean NOT NULL,
    server_restarted boolean NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX statement_collection_target_time ON pgpulse.statement_collection (target_id, sampled_at);
CREATE TABLE pgpulse.database_delta (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,
    interval_s real NOT NULL,
    datid oid NOT NULL,
    xact_commit bigint NOT NULL,
    xact_rollback bigint NOT NULL,
    blks_read bigint NOT NULL,
    blks_hit bigint NOT NULL,
    tup_returned bigint NOT NULL,
    tup_fetched bigint NOT NULL,
    tup_inserted bigint NOT NULL,
    tup_updated bigint NOT NULL,
    tup_deleted bigint NOT NULL,
    temp_files bigint NOT NULL,
    temp_bytes bigint NOT NULL,
    deadlocks bigint NOT NULL,
    conflicts bigint NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX database_delta_target_time ON pgpulse.database_delta (target_id, sampled_at);
CREATE TABLE pgpulse.connection_sample (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,
    datid oid NOT NULL,
    state text NOT NULL,
    connections int NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX connection_sample_target_time ON pgpulse.connection_sample (target_id, sampled_at);

-- A day's partition of a partitioned table, created if missing. Identifiers are quoted by format(%I); two collectors
-- creating the same day at once are serialised by a transaction-level advisory lock.
CREATE FUNCTION pgpulse.ensure_partition(parent text, day date) RETURNS text LANGUAGE plpgsql AS $$
DECLARE
    child text := parent || '_p' || to_char(day, 'YYYYMMDD');
BEGIN
    PERFORM pg_advisory_xact_lock(hashtext('pgpulse.partitions'));
    IF to_regclass(format('pgpulse.%I', child)) IS NULL THEN
        EXECUTE format('CREATE TABLE pgpulse.%I PARTITION OF pgpulse.%I FOR VALUES FROM (%L) TO (%L)',
                       child, parent, day::timestamp AT TIME ZONE 'UTC', (day + 1)::timestamp AT TIME ZONE 'UTC');
    END IF;
    RETURN child;
END $$;
-- Drops one day partition (retention, roll-up): the name comes from pg_inherits and is quoted by format(%I).
CREATE FUNCTION pgpulse.drop_partition(partition_name text) RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    EXECUTE format('DROP TABLE IF EXISTS pgpulse.%I', partition_name);
END $$;
"""

DOWNGRADE = """
DROP FUNCTION pgpulse.ensure_partition(text, date);
DROP FUNCTION pgpulse.drop_partition(text);
DROP TABLE pgpulse.connection_sample, pgpulse.database_delta, pgpulse.statement_collection, pgpulse.statement_delta,
           pgpulse.counter_state, pgpulse.collector_state, pgpulse.statement_text, pgpulse.target;
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in statements(DOWNGRADE):
        op.execute(statement)
