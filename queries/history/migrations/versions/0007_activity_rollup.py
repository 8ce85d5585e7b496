"""Active session samples rolled up to hours with the statements (same watermark, same transaction), so the Database
load over days sums hours instead of 10 s buckets: one row per target and hour in activity_bucket_hourly, one per hour
and combination in activity_load_hourly (the 10 s rows stay for the retention: a moment's sessions keep their detail).
The hours before each target's watermark are rolled up here, so an upgraded store reads the same.

Revision ID: 0007
Revises: 0006
"""
from alembic import op

from queries.history.schema import statements

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE pgpulse.activity_bucket_hourly (LIKE pgpulse.activity_bucket) PARTITION BY RANGE (sampled_at);
CREATE INDEX activity_bucket_hourly_target_time ON pgpulse.activity_bucket_hourly (target_id, sampled_at);
CREATE TABLE pgpulse.activity_load_hourly (LIKE pgpulse.activity_load) PARTITION BY RANGE (sampled_at);
CREATE INDEX activity_load_hourly_target_time ON pgpulse.activity_load_hourly (target_id, sampled_at);
SELECT pgpulse.ensure_partition(parent, day)
FROM (VALUES ('activity_bucket_hourly'), ('activity_load_hourly')) AS parents (parent),
     (SELECT DISTINCT (sampled_at AT TIME ZONE 'UTC')::date AS day FROM pgpulse.activity_bucket) AS days;
INSERT INTO pgpulse.activity_bucket_hourly
SELECT b.target_id, date_trunc('hour', b.sampled_at, 'UTC'), 3600, sum(b.samples), max(b.max_connections),
       max(b.cpu_count), sum(b.samples * b.every_s) / sum(b.samples), bool_and(b.query_id_computed)
FROM pgpulse.activity_bucket b JOIN pgpulse.rollup_watermark w ON w.target_id = b.target_id
WHERE b.sampled_at < w.rolled_until
GROUP BY b.target_id, date_trunc('hour', b.sampled_at, 'UTC');
INSERT INTO pgpulse.activity_load_hourly
SELECT l.target_id, date_trunc('hour', l.sampled_at, 'UTC'), l.state, l.wait_event_type, l.wait_event, l.query_id,
       l.user_name, l.application_name, l.database_name, l.client_addr, l.backend_type, sum(l.samples)
FROM pgpulse.activity_load l JOIN pgpulse.rollup_watermark w ON w.target_id = l.target_id
WHERE l.sampled_at < w.rolled_until
GROUP BY l.target_id, date_trunc('hour', l.sampled_at, 'UTC'), l.state, l.wait_event_type, l.wait_event, l.query_id,
         l.user_name, l.application_name, l.database_name, l.client_addr, l.backend_type;
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.activity_load_hourly, pgpulse.activity_bucket_hourly")
