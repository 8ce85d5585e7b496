"""queries.cache against real servers: buffer hits per database, table and index; ratios between samples."""

import pandas as pd
import pytest

from queries.cache import CacheSample, database_cache_hit, hit_ratio_between, index_cache_hit, table_cache_hit
from queries.connection import make_engine
from tests.conftest import poll
from tests.conftest import run_and_flush as run


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
