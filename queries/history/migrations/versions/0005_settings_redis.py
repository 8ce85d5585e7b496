"""Setting changes and Redis history: the collector stores pg_settings values only when they change (the last value of
every setting kept in value_state, so a restarted collector or retention never makes it store the full set again), and
the target's Redis INFO every history_redis_seconds (counters as deltas, memory and clients as read). Partitioned by
day like the other time series.

Revision ID: 0005
Revises: 0004
"""
from alembic import op

from queries.history.schema import statements

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

UPGRADE = """
-- the last value of every entry of a metric kept as changes (pg_settings): what the next reading is compared with
CREATE TABLE pgpulse.value_state (
    target_id int NOT NULL REFERENCES pgpulse.target ON DELETE CASCADE,
    metric text NOT NULL,
    entry text NOT NULL,  -- the key columns' values joined by '/' (a setting's name)
    vals text[] NOT NULL,  -- the compared values as text
    PRIMARY KEY (target_id, metric, entry)
);
CREATE TABLE pgpulse.setting_change (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the collection that saw the change
    previous_sampled_at timestamptz NOT NULL,  -- the collection before it: the change happened in between
    name text NOT NULL,
    previous_value text,  -- NULL: the setting appeared (an extension loaded, a new server version)
    value text,  -- NULL: the setting is gone
    pending_restart boolean  -- the new value waits for a restart
) PARTITION BY RANGE (sampled_at);
CREATE INDEX setting_change_target_time ON pgpulse.setting_change (target_id, sampled_at);
CREATE TABLE pgpulse.redis_sample (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,  -- the end of the interval the deltas cover
    interval_s real NOT NULL,
    keyspace_hits bigint NOT NULL,
    keyspace_misses bigint NOT NULL,
    evicted_keys bigint NOT NULL,
    expired_keys bigint NOT NULL,
    total_commands_processed bigint NOT NULL,
    used_memory_bytes bigint NOT NULL,  -- as read at sampled_at
    maxmemory_bytes bigint NOT NULL,  -- 0: no limit
    connected_clients int NOT NULL,
    blocked_clients int NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX redis_sample_target_time ON pgpulse.redis_sample (target_id, sampled_at);
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.redis_sample, pgpulse.setting_change, pgpulse.value_state")
