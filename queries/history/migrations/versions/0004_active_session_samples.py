"""Active session history: pg_stat_activity sampled every history_activity_seconds, kept as counts per 10 s bucket per
combination (state, wait, query_id, user, application, database, client, backend type), one row per bucket saying how
many samples were taken (average active sessions = session samples / samples), and the blocking tree of every sample
in which a session waited on a lock. Partitioned by day like the other time series.

Revision ID: 0004
Revises: 0003
"""
from alembic import op

from queries.history.schema import statements

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

UPGRADE = """
-- one row per bucket and collector: several rows for one bucket (a collector restarted inside it) add up
CREATE TABLE pgpulse.activity_bucket (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the bucket's start
    bucket_s real NOT NULL,
    samples int NOT NULL,
    max_connections int,
    cpu_count int,  -- known when the target runs on the collector's machine
    every_s real NOT NULL,  -- the sampling pace (history_activity_seconds)
    query_id_computed boolean NOT NULL  -- compute_query_id on (or auto with pg_stat_statements loaded)
) PARTITION BY RANGE (sampled_at);
CREATE INDEX activity_bucket_target_time ON pgpulse.activity_bucket (target_id, sampled_at);
CREATE TABLE pgpulse.activity_load (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the bucket's start
    state text NOT NULL,
    wait_event_type text,  -- NULL while active: on CPU
    wait_event text,
    query_id bigint,
    user_name text,
    application_name text,
    database_name text,
    client_addr text,
    backend_type text,
    samples int NOT NULL  -- how many samples of the bucket found a session with these values
) PARTITION BY RANGE (sampled_at);
CREATE INDEX activity_load_target_time ON pgpulse.activity_load (target_id, sampled_at);
CREATE TABLE pgpulse.lock_wait_sample (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the sample's moment
    pid int NOT NULL,
    blocking_pid int,  -- NULL for a root (it blocks, waits for nobody)
    root_pid int NOT NULL,
    depth int NOT NULL,
    path text NOT NULL,
    user_name text,
    database_name text,
    state text,
    wait_seconds float8,
    lock_mode text,
    locktype text,
    relation text,
    query text,  -- masked (errors.scrub) before it is written
    backend_type text
) PARTITION BY RANGE (sampled_at);
CREATE INDEX lock_wait_sample_target_time ON pgpulse.lock_wait_sample (target_id, sampled_at);
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.lock_wait_sample, pgpulse.activity_load, pgpulse.activity_bucket")
