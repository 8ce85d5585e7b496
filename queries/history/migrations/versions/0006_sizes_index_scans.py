"""Space and index use over time: each relation's exact size (stored when it changed, and in full once a UTC day, so
a day partition dropped by retention never takes away the base of the days after it), the database's size, each
index's scans between two collections, and one row per collection of these (a quiet interval is not a gap).
Relations are keyed by relid; their names are stored once per target (relation_name), as statement texts are.

Revision ID: 0006
Revises: 0005
"""
from alembic import op

from queries.history.schema import statements

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None

UPGRADE = """
CREATE TABLE pgpulse.relation_name (
    target_id int NOT NULL REFERENCES pgpulse.target ON DELETE CASCADE,
    relid oid NOT NULL,
    kind text NOT NULL,  -- 'table' or 'index'
    schema_name text NOT NULL,
    relation_name text NOT NULL,
    table_name text NOT NULL,  -- a table's own name, an index's table
    droppable boolean,  -- an index no constraint needs (not unique, primary key or replica identity); NULL for tables
    first_seen_at timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (target_id, relid)
);
-- columns ordered so no byte is padding: 10,000 tables and their indexes in full once a day stay near 1 MB
CREATE TABLE pgpulse.relation_size (
    target_id int NOT NULL,
    relid oid NOT NULL,
    sampled_at timestamptz NOT NULL,
    size_bytes bigint  -- NULL: the relation was gone at this collection
) PARTITION BY RANGE (sampled_at);
CREATE INDEX relation_size_target_time ON pgpulse.relation_size (target_id, sampled_at);
CREATE TABLE pgpulse.database_size_sample (
    target_id int NOT NULL,
    datid oid NOT NULL,
    sampled_at timestamptz NOT NULL,
    size_bytes bigint NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX database_size_sample_target_time ON pgpulse.database_size_sample (target_id, sampled_at);
-- an index scanned in the interval only: most indexes of a big catalog are idle most hours
CREATE TABLE pgpulse.index_scan_delta (
    target_id int NOT NULL,
    relid oid NOT NULL,
    sampled_at timestamptz NOT NULL,
    interval_s real NOT NULL,
    idx_scan bigint NOT NULL
) PARTITION BY RANGE (sampled_at);
CREATE INDEX index_scan_delta_target_time ON pgpulse.index_scan_delta (target_id, sampled_at);
CREATE TABLE pgpulse.metric_collection (
    target_id int NOT NULL,
    sampled_at timestamptz NOT NULL,
    metric text NOT NULL,  -- 'relation_sizes', 'index_scans'
    interval_s real,  -- NULL for the first collection (the base)
    entries int NOT NULL,
    estimated boolean NOT NULL  -- sizes from relpages: the exact read hit the statement or lock timeout
) PARTITION BY RANGE (sampled_at);
CREATE INDEX metric_collection_target_time ON pgpulse.metric_collection (target_id, metric, sampled_at);
"""


def upgrade() -> None:
    for statement in statements(UPGRADE):
        op.execute(statement)


def downgrade() -> None:
    op.execute("DROP TABLE pgpulse.metric_collection, pgpulse.index_scan_delta, pgpulse.database_size_sample, "
               "pgpulse.relation_size, pgpulse.relation_name")
