"""Space and index use over time on real servers: a table grown by a known number of pages, indexes scanned a known
number of times (and one never), a statistics reset between collections, and what the store keeps of sizes."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from queries import catalogue
from queries.connection import make_engine
from queries.history.deltas import Snapshot, next_batch
from queries.history.sizes import (
    index_scan_coverage,
    index_scan_series,
    index_scans_over_range,
    table_growth,
    unused_indexes_over_range,
)
from tests.conftest import flush_statistics, run_and_flush
from tests.history_support import collect_once, new_store, rows

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

PAGE = 8192
# pad is stored plain (no compression, no TOAST): 4 rows of ~2,030 bytes fill one 8 kB page
GROW = "INSERT INTO grow SELECT g, repeat('x', 2000) FROM generate_series(1, %s) g"


@pytest.fixture
def store(pg_admin_url) -> str:
    return new_store(pg_admin_url)


@pytest.fixture
def store_engine(store):
    engine = make_engine(store)
    yield engine
    engine.dispose()


def _pages(url: str, table: str) -> tuple[int, int]:
    """The table's heap pages, and all its pages (heap, free-space and visibility maps, TOAST) by pg_table_size."""
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT pg_relation_size(%s::regclass) / 8192, pg_table_size(%s::regclass) / 8192",
                            (table, table)).fetchone()


def _range(started: datetime) -> tuple[datetime, datetime]:
    return started - timedelta(seconds=1), datetime.now(UTC) + timedelta(seconds=1)


def test_a_table_grown_by_known_pages_shows_that_growth(store, store_engine, fresh_db):
    run_and_flush(fresh_db, "CREATE TABLE grow (id int, pad text)", "ALTER TABLE grow ALTER pad SET STORAGE PLAIN",
                  "CREATE TABLE still (id int)")
    started = datetime.now(UTC)
    _, pages_before = _pages(fresh_db, "grow")  # its empty TOAST table's index
    assert collect_once(store, ("app", fresh_db))  # the base
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(GROW, (40,))
    heap_pages, pages_after = _pages(fresh_db, "grow")
    assert heap_pages == 10  # the test's own premise: 40 rows, 10 heap pages (and the free-space map they made)
    assert collect_once(store, ("app", fresh_db))
    growth = table_growth(store_engine, "app", *_range(started))
    grow = growth[growth["relation_name"] == "grow"].iloc[0]
    assert (grow["kind"], grow["start_size_bytes"], grow["size_bytes"]) == ("table", pages_before * PAGE, pages_after * PAGE)
    assert grow["growth_bytes"] == (pages_after - pages_before) * PAGE >= 10 * PAGE
    assert growth["relation_name"].iloc[0] == "grow"  # the biggest grower first
    span_days = (grow["measured_to"] - grow["measured_from"]).total_seconds() / 86400
    assert grow["growth_bytes_per_day"] == pytest.approx((pages_after - pages_before) * PAGE / span_days)
    still = growth[growth["relation_name"] == "still"].iloc[0]
    assert still["growth_bytes"] == 0 and still["days_to_double"] != still["days_to_double"]  # NaN: it never doubles


def test_growth_doubles_at_its_rate_and_only_changed_sizes_are_stored(store, store_engine, fresh_db):
    run_and_flush(fresh_db, "CREATE TABLE grow (id int, pad text)", "ALTER TABLE grow ALTER pad SET STORAGE PLAIN",
                  "CREATE TABLE gone (id int)")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(GROW, (20,))  # 5 heap pages
    _, pages_before = _pages(fresh_db, "grow")
    started = datetime.now(UTC)
    assert collect_once(store, ("app", fresh_db))
    assert collect_once(store, ("app", fresh_db))  # nothing changed: no size row
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(GROW, (20,))  # 5 more
        conn.execute("DROP TABLE gone")
    heap_pages, pages_after = _pages(fresh_db, "grow")
    assert heap_pages == 10 and pages_after == pages_before + 5  # the free-space map was there already
    assert collect_once(store, ("app", fresh_db))
    per_collection = rows(store, """SELECT c.sampled_at, count(s.relid) FROM pgpulse.metric_collection c
                                    LEFT JOIN pgpulse.relation_size s USING (target_id, sampled_at)
                                    WHERE c.metric = 'relation_sizes' GROUP BY 1 ORDER BY 1""")
    assert [count for _, count in per_collection] == [2, 0, 2]  # both tables; nothing; grow and gone (NULL: dropped)
    growth = table_growth(store_engine, "app", *_range(started))
    assert growth["relation_name"].tolist() == ["grow"]  # gone is gone
    grow = growth.iloc[0]
    assert (grow["start_size_bytes"], grow["growth_bytes"]) == (pages_before * PAGE, 5 * PAGE)
    # at 5 pages per span, the table doubles in (its pages / 5) spans
    span_days = (grow["measured_to"] - grow["measured_from"]).total_seconds() / 86400
    assert grow["days_to_double"] == pytest.approx(pages_after / 5 * span_days)


def test_sizes_held_up_by_a_lock_are_estimated_from_page_counts(store, store_engine, fresh_db):
    run_and_flush(fresh_db, "CREATE TABLE grow (id int)", "INSERT INTO grow SELECT generate_series(1, 2260)",
                  "VACUUM ANALYZE grow")  # 226 rows a page: relpages 10
    started = datetime.now(UTC)
    assert collect_once(store, ("app", fresh_db))  # exact
    with psycopg.connect(fresh_db) as migration:
        migration.execute("LOCK TABLE grow IN ACCESS EXCLUSIVE MODE")  # pg_relation_size waits on it: lock timeout
        assert collect_once(store, ("app", fresh_db))  # estimated, not lost
    assert rows(store, "SELECT estimated FROM pgpulse.metric_collection WHERE metric = 'relation_sizes' "
                       "ORDER BY sampled_at") == [(False,), (True,)]
    growth = table_growth(store_engine, "app", *_range(started)).set_index("relation_name")
    assert growth.loc["grow", "size_bytes"] == 10 * PAGE  # relpages x block size (no free-space or visibility map)
    assert growth["estimated"].all()


def _scan(url: str, times: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        for value in range(times):
            conn.execute("SELECT n FROM probe WHERE id = %s", (value,))
        flush_statistics(conn)


@pytest.fixture
def indexed(fresh_db) -> str:
    run_and_flush(fresh_db, "CREATE TABLE probe AS SELECT g AS k, g AS id, g AS n FROM generate_series(1, 100) g",
                  "ALTER TABLE probe ADD PRIMARY KEY (k)", "CREATE INDEX probe_id ON probe (id)",
                  "CREATE INDEX probe_n ON probe (n)", "ANALYZE probe")
    return fresh_db


def test_scans_between_two_collections_and_an_index_never_scanned(store, store_engine, indexed):
    started = datetime.now(UTC)
    assert collect_once(store, ("app", indexed))
    _scan(indexed, 7)
    assert collect_once(store, ("app", indexed))
    scans = index_scans_over_range(store_engine, "app", *_range(started)).set_index("index_name")
    assert scans.loc["probe_id", "index_scans"] == 7
    assert scans.loc["probe_n", "index_scans"] == 0
    assert scans.loc["probe_pkey", "index_scans"] == 0
    unused = unused_indexes_over_range(store_engine, "app", *_range(started))
    assert unused["index_name"].tolist() == ["probe_n"]  # the primary key does work though nobody scans it
    assert unused["fix_sql"].tolist() == ['DROP INDEX CONCURRENTLY "public"."probe_n";']
    series = index_scan_series(store_engine, "app", *_range(started))
    assert series["index_name"].unique().tolist() == ["public.probe_id"] and series["index_scans"].sum() == 7
    collections = rows(store, "SELECT sampled_at FROM pgpulse.metric_collection WHERE metric = 'index_scans' "
                              "ORDER BY sampled_at")
    assert index_scan_coverage(store_engine, "app", *_range(started)) == (collections[0][0], collections[-1][0])
    before = (started - timedelta(hours=2), started - timedelta(hours=1))  # nothing counted then: no list, no zeros
    assert index_scan_coverage(store_engine, "app", *before) is None
    assert index_scans_over_range(store_engine, "app", *before).empty
    assert unused_indexes_over_range(store_engine, "app", *before).empty


def test_a_reset_between_collections_never_gives_negative_deltas(store, store_engine, indexed):
    started = datetime.now(UTC)
    assert collect_once(store, ("app", indexed))
    _scan(indexed, 5)
    assert collect_once(store, ("app", indexed))
    _scan(indexed, 9)
    run_and_flush(indexed, "SELECT pg_stat_reset()")  # by the test: pgpulse never resets
    _scan(indexed, 2)
    assert collect_once(store, ("app", indexed))
    deltas = rows(store, """SELECT d.idx_scan FROM pgpulse.index_scan_delta d
                            JOIN pgpulse.relation_name n USING (target_id, relid)
                            WHERE n.relation_name = 'probe_id' ORDER BY d.sampled_at""")
    assert deltas == [(5,), (2,)]  # after the reset: what ran after it, never 2 - 14
    assert rows(store, "SELECT count(*) FROM pgpulse.index_scan_delta WHERE idx_scan < 0") == [(0,)]
    scans = index_scans_over_range(store_engine, "app", *_range(started)).set_index("index_name")
    assert scans.loc["probe_id", "index_scans"] == 7


def _sizes(at: datetime, sizes: dict[int, int]) -> Snapshot:
    return Snapshot("relation_sizes", at, [{"relid": relid, "size_bytes": size, "kind": "table", "schema_name": "s",
                                            "relation_name": f"t{relid}", "table_name": f"t{relid}", "droppable": None}
                                           for relid, size in sizes.items()])


def test_sizes_are_stored_when_they_change_and_in_full_each_day():
    metric = catalogue.metric("relation_sizes")
    evening = datetime(2026, 5, 1, 21, 0, tzinfo=UTC)
    batch, state = next_batch(metric, None, _sizes(evening, {1: 8192, 2: 16384}))
    assert [row["relid"] for row in batch.rows] == [1, 2]  # the base: every relation
    batch, state = next_batch(metric, state, _sizes(evening + timedelta(hours=1), {1: 8192, 2: 24576}))
    assert [(row["relid"], row["size_bytes"]) for row in batch.rows] == [(2, 24576)]
    batch, state = next_batch(metric, state, _sizes(evening + timedelta(hours=2), {1: 8192}))
    assert [(row["relid"], row["size_bytes"]) for row in batch.rows] == [(2, None)]  # dropped
    batch, _ = next_batch(metric, state, _sizes(evening + timedelta(hours=3), {1: 8192}))
    assert [row["relid"] for row in batch.rows] == [1]  # a new UTC day: its partition gets its own base
    assert batch.collection == {"metric": "relation_sizes", "interval_s": 3600.0, "entries": 1, "estimated": False}
