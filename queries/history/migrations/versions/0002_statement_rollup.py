"""Statement deltas rolled up to one row per hour after a few days (queries.history.store.roll_up), so months
of retention stay small; partitioned by day like the per-collection deltas.

Revision ID: 0002
Revises: 0001
"""
from alembic import op

from queries.history.schema import statements

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    for statement in statements("""
CREATE TABLE pgpulse.statement_delta_hourly (LIKE pgpulse.statement_delta) PARTITION BY RANGE (sampled_at);
CREATE INDEX statement_delta_hourly_target_time ON pgpulse.statement_delta_hourly (target_id, sampled_at);
CREATE INDEX statement_delta_hourly_target_query ON pgpulse.statement_delta_hourly (target_id, queryid, sampled_at);
"""):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.statement_delta_hourly")
