"""The Fleet page's figures: one row per target with its latest reachability (and why not, in words) and its
server figures, written by the collector at the database pace and read by the Fleet page (which then costs the
monitored servers nothing). Not a time series: the trends come from database_delta and activity_bucket.

Revision ID: 0008
Revises: 0007
"""
from alembic import op

from queries.history.schema import statements

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE pgpulse.fleet_state (
    target_id int PRIMARY KEY REFERENCES pgpulse.target ON DELETE CASCADE,
    checked_at timestamptz NOT NULL,  -- the last attempt to read the server
    reachable boolean NOT NULL,
    error text,  -- why not, in words (queries.errors); never a connection string
    unreachable_since timestamptz,
    read_at timestamptz,  -- the last successful read: the figures below are this old
    server_version text,
    server_started_at timestamptz,
    max_connections int,
    server_connections int,
    database_connections int,
    oldest_xact_age_s float8,
    wraparound_age_xids bigint,
    freeze_max_age_xids bigint,
    in_recovery boolean,
    replication_lag_s float8,
    live_checks jsonb,  -- failing checks [{check, page, detail}] of the live group
    live_checks_at timestamptz,
    catalog_checks jsonb,  -- and of the catalog group (read at the statistics pace)
    catalog_checks_at timestamptz
);
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.fleet_state")
