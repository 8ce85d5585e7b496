"""Statement deltas rolled up to hours as soon as an hour is complete (not only once its day is dropped), so range
reads sum hours instead of minutes: a watermark per target says up to when the hourly rows are complete. The hours
so far are rolled up here, so a store upgraded from 0002 reads the same.

Revision ID: 0003
Revises: 0002
"""
from alembic import op

from queries.history.schema import statements

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE pgpulse.rollup_watermark (
    target_id int PRIMARY KEY REFERENCES pgpulse.target ON DELETE CASCADE,
    rolled_until timestamptz NOT NULL  -- statement_delta_hourly holds every hour before this
);
INSERT INTO pgpulse.statement_delta_hourly
SELECT target_id, date_trunc('hour', sampled_at, 'UTC'), sum(interval_s), dbid, userid, queryid, toplevel,
       sum(calls), sum(total_exec_time_ms), sum(total_plan_time_ms), sum(rows), sum(shared_blks_hit),
       sum(shared_blks_read), sum(shared_blks_dirtied), sum(shared_blks_written), sum(temp_blks_read),
       sum(temp_blks_written), sum(io_read_time_ms), sum(io_write_time_ms), sum(wal_records), sum(wal_bytes)
FROM pgpulse.statement_delta
WHERE sampled_at < date_trunc('hour', now(), 'UTC')
GROUP BY target_id, date_trunc('hour', sampled_at, 'UTC'), dbid, userid, queryid, toplevel;
INSERT INTO pgpulse.rollup_watermark (target_id, rolled_until)
SELECT target_id, date_trunc('hour', now(), 'UTC') FROM pgpulse.target;
"""

# back to 0002, where hourly rows exist only for days whose per-collection rows were dropped
DOWNGRADE = """
DELETE FROM pgpulse.statement_delta_hourly h
WHERE EXISTS (SELECT FROM pgpulse.statement_delta d
              WHERE d.target_id = h.target_id AND d.sampled_at >= h.sampled_at
                AND d.sampled_at < h.sampled_at + interval '1 hour');
DROP TABLE pgpulse.rollup_watermark;
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    for statement in statements(DOWNGRADE):
        op.execute(statement)
