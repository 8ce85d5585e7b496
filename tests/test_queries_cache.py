"""queries.cache against real servers: buffer hits per database, table and index; ratios between samples."""

import pandas as pd
import psycopg
import pytest

from queries.cache import CacheSample, database_cache_hit, hit_ratio_between, index_cache_hit, table_cache_hit
from queries.connection import make_engine
from tests.conftest import poll
from tests.conftest import run_and_flush as run

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


@pytest.fixture
def read_db(fresh_db):
    """hot: 10,000 rows with an index, scanned and looked up; bare: no index, never read."""
    run(fresh_db,
        "CREATE TABLE hot (id int PRIMARY KEY, body text)",
        "INSERT INTO hot SELECT g, repeat('x', 50) FROM generate_series(1, 10000) g",
        "CREATE TABLE bare (id int)",
        "SELECT count(*) FROM hot",
        "SELECT count(*) FROM hot",
        "SET enable_seqscan = off",
        "SELECT body FROM hot WHERE id = 4242")
    return fresh_db


def test_table_hit_ratio_of_a_table_that_was_read(read_db):
    engine = make_engine(read_db)
    frame = poll(lambda: table_cache_hit(engine), lambda f: (f["idx_blks_hit"].fillna(0) > 0).any())
    assert set(frame["table_name"]) == {"hot", "bare"}
    hot = frame[frame["table_name"] == "hot"].iloc[0]
    assert hot["schema_name"] == "public" and hot["heap_blks_hit"] > 0
    assert 0 <= hot["heap_hit_ratio"] <= 1
    assert hot["heap_hit_ratio"] == pytest.approx(hot["heap_blks_hit"] / (hot["heap_blks_hit"] + hot["heap_blks_read"]))
    assert hot["idx_blks_hit"] > 0 and 0 <= hot["idx_hit_ratio"] <= 1
    assert hot["total_blks_read"] >= hot["heap_blks_read"] + hot["idx_blks_read"]
    bare = frame[frame["table_name"] == "bare"].iloc[0]
    assert bare["heap_blks_hit"] == 0 and bare["heap_blks_read"] == 0
    assert pd.isna(bare["idx_blks_hit"]) and pd.isna(bare["heap_hit_ratio"])  # no index; nothing read yet
    assert frame["heap_blks_read"].is_monotonic_decreasing
    assert len(table_cache_hit(engine, limit=1)) == 1


def test_index_hit_ratio_of_a_looked_up_index(read_db):
    engine = make_engine(read_db)
    frame = poll(lambda: index_cache_hit(engine), lambda f: (f["idx_blks_hit"] > 0).any())
    assert list(frame["index_name"]) == ["hot_pkey"]
    row = frame.iloc[0]
    assert (row["schema_name"], row["table_name"]) == ("public", "hot")
    assert row["idx_blks_hit"] > 0
    assert row["hit_ratio"] == pytest.approx(row["idx_blks_hit"] / (row["idx_blks_hit"] + row["idx_blks_read"]))



# the numbers as pg_statio_user_tables / pg_statio_user_indexes give them, in the order pgpulse shows them
VIEW_TABLES = """
SELECT schemaname, relname, heap_blks_hit, heap_blks_read, idx_blks_hit, idx_blks_read, toast_blks_hit, toast_blks_read,
       heap_blks_read + coalesce(idx_blks_read, 0) + coalesce(toast_blks_read, 0) + coalesce(tidx_blks_read, 0)
FROM pg_statio_user_tables ORDER BY heap_blks_read DESC, schemaname, relname"""
VIEW_INDEXES = """
SELECT schemaname, relname, indexrelname, idx_blks_hit, idx_blks_read
FROM pg_statio_user_indexes ORDER BY idx_blks_read DESC, schemaname, relname, indexrelname"""


def rows(frame, columns):
    return [[None if pd.isna(value) else value for value in row] for row in frame[columns].astype(object).values.tolist()]


@pytest.fixture
def toast_db(fresh_db):
    """docs: 200 rows stored out of line in its TOAST table, all read back; hidden: read, in a non-user schema."""
    run(fresh_db,
        "CREATE TABLE docs (id int PRIMARY KEY, body text)",
        "ALTER TABLE docs ALTER COLUMN body SET STORAGE EXTERNAL",  # out of line and uncompressed
        "INSERT INTO docs SELECT g, repeat(md5(g::text), 100) FROM generate_series(1, 200) g",
        "CREATE MATERIALIZED VIEW docs_mv AS SELECT id FROM docs",
        "CREATE TABLE information_schema.hidden (id int PRIMARY KEY)",
        "INSERT INTO information_schema.hidden SELECT generate_series(1, 1000)",
        "SELECT sum(length(body)) FROM docs",
        "SELECT count(*) FROM docs_mv",
        "SET enable_seqscan = off",
        "SELECT count(*) FROM information_schema.hidden WHERE id < 500")
    return fresh_db


def test_table_counters_include_toast_and_match_the_view(toast_db):
    engine = make_engine(toast_db)
    frame = poll(lambda: table_cache_hit(engine), lambda f: (f["toast_blks_hit"].fillna(0) > 0).any())
    docs = frame[frame["table_name"] == "docs"].iloc[0]
    assert docs["toast_blks_hit"] + docs["toast_blks_read"] > 0  # the bodies were read from the TOAST table
    assert docs["total_blks_read"] >= docs["heap_blks_read"] + docs["idx_blks_read"] + docs["toast_blks_read"]
    mv = frame[frame["table_name"] == "docs_mv"].iloc[0]
    assert pd.isna(mv["idx_blks_hit"]) and pd.isna(mv["toast_blks_hit"])  # no index, no TOAST table
    with psycopg.connect(toast_db) as conn:
        expected = [list(row) for row in conn.execute(VIEW_TABLES).fetchall()]
    assert {row[1] for row in expected} == {"docs", "docs_mv"}
    columns = ["schema_name", "table_name", "heap_blks_hit", "heap_blks_read", "idx_blks_hit", "idx_blks_read",
               "toast_blks_hit", "toast_blks_read", "total_blks_read"]
    assert rows(frame, columns) == expected  # hidden (information_schema) stays out, as in the view


def test_index_counters_match_the_view(toast_db):
    engine = make_engine(toast_db)
    frame = poll(lambda: index_cache_hit(engine), lambda f: (f["idx_blks_hit"] > 0).any())
    with psycopg.connect(toast_db) as conn:
        expected = [list(row) for row in conn.execute(VIEW_INDEXES).fetchall()]
    assert [row[2] for row in expected] == ["docs_pkey"]  # not hidden_pkey, not the TOAST table's index
    assert rows(frame, ["schema_name", "table_name", "index_name", "idx_blks_hit", "idx_blks_read"]) == expected


def test_indexes_with_equal_reads_are_ordered_by_name(fresh_db):
    # created in reverse name order, so their oids sort the other way round
    run(fresh_db, "CREATE TABLE b (id int, v int)",
        "CREATE INDEX b_zeta ON b (id)", "CREATE INDEX b_mid ON b (v)", "CREATE INDEX b_alpha ON b (id, v)",
        "CREATE TABLE a (id int)", "CREATE INDEX a_z ON a (id)", "CREATE INDEX a_y ON a (id)")
    engine = make_engine(fresh_db)
    assert list(index_cache_hit(engine)["index_name"]) == ["a_y", "a_z", "b_alpha", "b_mid", "b_zeta"]  # nothing read
    assert list(index_cache_hit(engine, limit=1)["index_name"]) == ["a_y"]
    assert list(index_cache_hit(engine, limit=3)["index_name"]) == ["a_y", "a_z", "b_alpha"]

def test_database_sample_and_ratio_between_two_real_samples(read_db):
    engine = make_engine(read_db)
    first = database_cache_hit(engine)
    assert first.blks_hit > 0
    assert first.hit_ratio == pytest.approx(first.blks_hit / (first.blks_hit + first.blks_read))
    run(read_db, "SELECT count(*) FROM hot")
    second = poll(lambda: database_cache_hit(engine), lambda s: s.blks_hit > first.blks_hit)
    assert second.blks_hit > first.blks_hit and second.sampled_at_epoch > first.sampled_at_epoch
    hits, reads = second.blks_hit - first.blks_hit, second.blks_read - first.blks_read
    assert hit_ratio_between(first, second) == pytest.approx(hits / (hits + reads))


def test_ratio_between_hand_made_samples():
    earlier = CacheSample(blks_hit=1000, blks_read=100, hit_ratio=1000 / 1100, sampled_at_epoch=100.0)
    later = CacheSample(blks_hit=1090, blks_read=110, hit_ratio=1090 / 1200, sampled_at_epoch=110.0)
    assert hit_ratio_between(earlier, later) == pytest.approx(0.9)  # 90 hits, 10 reads in the interval
    assert hit_ratio_between(None, later) is None
    assert hit_ratio_between(later, later) is None  # nothing happened: no ratio, not 0 or 1
    reset = CacheSample(blks_hit=5, blks_read=1, hit_ratio=5 / 6, sampled_at_epoch=120.0)
    assert hit_ratio_between(later, reset) is None  # pg_stat_reset(): counters went backwards
