"""queries.space against real servers: a known table's heap, TOAST and index bytes, database sizes."""
import uuid

import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.connection import make_engine
from queries.errors import PgPulseError
from queries.space import database_sizes, index_sizes, table_size_estimates, table_sizes
from tests.conftest import create_database

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

TABLE_COLUMNS = ["schema_name", "table_name", "heap_bytes", "toast_bytes", "index_bytes", "total_bytes", "estimated_rows"]
DOC_ROWS = 300


def run(url, *statements):
    """Run statements in autocommit; return the rows of the last one (None when it returns none)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else None


@pytest.fixture
def docs_db(fresh_db):
    """A table whose ~4.8 kB incompressible bodies live in TOAST, with a primary key and one more index."""
    run(fresh_db,
        "CREATE TABLE docs (id int PRIMARY KEY, title text, body text) WITH (autovacuum_enabled = off)",
        "CREATE INDEX docs_title ON docs (title)",
        f"""INSERT INTO docs SELECT g, 'doc ' || g,
                (SELECT string_agg(md5(random()::text || g || s), '') FROM generate_series(1, 150) s)
            FROM generate_series(1, {DOC_ROWS}) g""",
        "CREATE TABLE small (id int)",
        "VACUUM ANALYZE docs")
    return fresh_db


def row_of(frame, table):
    rows = frame[frame["table_name"] == table]
    assert len(rows) == 1, f"{table} not in {list(frame['table_name'])}"
    return rows.iloc[0]


def test_table_sizes_split_heap_toast_and_indexes(docs_db):
    frame = table_sizes(make_engine(docs_db))
    assert list(frame.columns) == TABLE_COLUMNS
    assert list(frame["table_name"]) == ["docs", "small"]
    docs = row_of(frame, "docs")
    (total, table, main, toast, indexes), = run(docs_db, """
        SELECT pg_total_relation_size('docs'), pg_table_size('docs'), pg_relation_size('docs'),
               pg_total_relation_size(reltoastrelid), pg_indexes_size('docs')
        FROM pg_class WHERE oid = 'docs'::regclass""")
    assert docs["schema_name"] == "public"
    assert docs["toast_bytes"] == toast > DOC_ROWS * 4000  # the bodies really are out of line
    assert docs["index_bytes"] == indexes > 0
    assert docs["heap_bytes"] == table - toast >= main > 0
    assert docs["total_bytes"] == total == docs["heap_bytes"] + docs["toast_bytes"] + docs["index_bytes"]
    assert docs["estimated_rows"] == DOC_ROWS
    small = row_of(frame, "small")
    assert (small["heap_bytes"], small["toast_bytes"], small["index_bytes"]) == (0, 0, 0)
    assert pd.isna(small["estimated_rows"])  # never analyzed: reltuples -1 is not "0 rows"


def test_estimates_come_from_relpages_and_track_the_real_size(docs_db):
    frame = table_size_estimates(make_engine(docs_db))
    assert list(frame.columns) == TABLE_COLUMNS
    docs = row_of(frame, "docs")
    (heap_pages, toast_pages, index_pages, main, toast), = run(docs_db, """
        SELECT c.relpages,
               (SELECT sum(x.relpages)::bigint FROM pg_class x
                WHERE x.oid = c.reltoastrelid OR x.oid IN (SELECT indexrelid FROM pg_index WHERE indrelid = c.reltoastrelid)),
               (SELECT sum(x.relpages)::bigint FROM pg_class x JOIN pg_index i ON i.indexrelid = x.oid WHERE i.indrelid = c.oid),
               pg_relation_size(c.oid), pg_total_relation_size(c.reltoastrelid)
        FROM pg_class c WHERE c.oid = 'docs'::regclass""")
    assert (docs["heap_bytes"], docs["toast_bytes"], docs["index_bytes"]) == (
        heap_pages * 8192, toast_pages * 8192, index_pages * 8192)
    assert docs["total_bytes"] == (heap_pages + toast_pages + index_pages) * 8192
    assert docs["heap_bytes"] == main  # VACUUM just set relpages
    assert docs["toast_bytes"] == pytest.approx(toast, rel=0.05)  # index relpages may lag a few pages
    assert docs["estimated_rows"] == DOC_ROWS


def test_limit_keeps_the_largest(docs_db):
    engine = make_engine(docs_db)
    assert list(table_sizes(engine, limit=1)["table_name"]) == ["docs"]
    assert list(table_size_estimates(engine, limit=1)["table_name"]) == ["docs"]


def test_estimates_do_not_wait_for_a_migration_lock(docs_db):
    engine = make_engine(docs_db)
    with psycopg.connect(docs_db) as migration:
        migration.execute("LOCK TABLE docs IN ACCESS EXCLUSIVE MODE")
        try:
            assert "docs" in set(table_size_estimates(engine)["table_name"])
            # exact sizes open each relation: a held lock surfaces as lock_timeout, not a hang
            with pytest.raises(PgPulseError) as caught:
                table_sizes(engine)
            assert caught.value.kind == "lock_timeout"
        finally:
            migration.rollback()


def test_index_sizes_are_exact_and_sorted(docs_db):
    frame = index_sizes(make_engine(docs_db))
    assert list(frame.columns) == ["schema_name", "table_name", "index_name", "size_bytes", "idx_scan"]
    assert set(frame["index_name"]) == {"docs_pkey", "docs_title"}
    expected = dict(run(docs_db, "SELECT relname, pg_relation_size(oid) FROM pg_class "
                                 "WHERE relname IN ('docs_pkey', 'docs_title')"))
    assert dict(zip(frame["index_name"], frame["size_bytes"], strict=True)) == expected
    assert frame["size_bytes"].is_monotonic_decreasing
    assert list(frame["idx_scan"]) == [0, 0]
    assert list(index_sizes(make_engine(docs_db), limit=1)["index_name"]) == [frame.iloc[0]["index_name"]]


def test_index_sizes_list_the_indexes_of_user_schemas_only(fresh_db):
    # pg_stat_user_indexes' rows: information_schema is left out like pg_catalog and pg_toast, a materialized
    # view's index is in, a partitioned table's parent index (no storage) is out and its partition's copy is in
    run(fresh_db,
        "CREATE TABLE information_schema.hidden (a int)", "CREATE INDEX hidden_a ON information_schema.hidden (a)",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a", "CREATE INDEX mv_a ON mv (a)",
        "CREATE TABLE parted (a int) PARTITION BY RANGE (a)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)",
        "CREATE INDEX parted_a ON parted (a)",
        "CREATE TABLE docs (body text)")  # has a TOAST table and TOAST index
    frame = index_sizes(make_engine(fresh_db))
    assert sorted(zip(frame["schema_name"], frame["table_name"], frame["index_name"], frame["idx_scan"], strict=True)) == [
        ("public", "mv", "mv_a", 0), ("public", "parted_1", "parted_1_a_idx", 0)]
    assert list(frame["size_bytes"]) == [16384, 8192]  # the index on a row has a root page besides its metapage


def test_database_sizes_include_current_and_hide_forbidden(fresh_db, pg_admin_url):
    current = make_url(fresh_db).database
    closed = create_database(pg_admin_url, f"closed_{uuid.uuid4().hex[:8]}", extension=False)
    closed_name = make_url(closed).database
    role = f"sizes_{uuid.uuid4().hex[:8]}"
    run(pg_admin_url, f'REVOKE CONNECT ON DATABASE "{closed_name}" FROM PUBLIC', f"CREATE ROLE {role} LOGIN")
    try:
        frame = database_sizes(make_engine(fresh_db))
        assert list(frame.columns) == ["database_name", "size_bytes"]
        (size,), = run(fresh_db, "SELECT pg_database_size(current_database())")
        assert frame.loc[frame["database_name"] == current, "size_bytes"].tolist() == [size]
        assert "template0" not in set(frame["database_name"])  # accepts no connections
        assert frame["size_bytes"].is_monotonic_decreasing
        limited_engine = make_engine(make_url(fresh_db).set(username=role))
        limited = database_sizes(limited_engine)
        limited_engine.dispose()
        assert limited.loc[limited["database_name"] == closed_name, "size_bytes"].isna().tolist() == [True]
        assert limited.loc[limited["database_name"] == current, "size_bytes"].iloc[0] > 0
        assert limited.iloc[-1]["database_name"] == closed_name  # unknown sizes sort last
    finally:
        run(pg_admin_url, f'DROP DATABASE IF EXISTS "{closed_name}" WITH (FORCE)', f"DROP ROLE IF EXISTS {role}")
