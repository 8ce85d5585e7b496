"""The history store on a real PostgreSQL: migrations, partitions and retention, the hourly roll-up, and the range reads
over a history written through the same delta rules and writes as the collector's (with times we choose)."""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from queries import catalogue
from queries.connection import make_engine
from queries.history import (
    HistoryRangeError,
    database_series,
    has_history,
    history_extent,
    schema,
    statement_series,
    statements_over_range,
    store,
    what_changed,
)
from queries.history.deltas import Snapshot, next_batch
from queries.history.load import database_load, load_reference
from queries.history.sampling import Aggregator
from tests.history_support import new_store, rows

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

GAP = {8, 9}  # minutes without a collection (collector or target down)
Q_SLOWER, Q_NEW, Q_IDLE = 11, 22, 33


@pytest.fixture
def store_engine(pg_admin_url):
    url = new_store(pg_admin_url)
    engine = make_engine(url)
    with engine.connect() as conn:
        schema.migrate(conn)
    yield engine
    engine.dispose()


def _statement(queryid: int, calls: int, time_ms: float) -> dict:
    counters = dict.fromkeys(catalogue.metric("statements").stored.values, 0)
    counters.update(calls=calls, total_exec_time_ms=float(time_ms), rows=calls, shared_blks_hit=3 * calls,
                    shared_blks_read=calls, io_read_time_ms=0.0, io_write_time_ms=0.0, total_plan_time_ms=0.0, wal_bytes=0.0)
    return {"dbid": 5, "userid": 10, "queryid": queryid, "toplevel": True, "query": f"SELECT {queryid} /* q */",
            "stats_since": None, **counters}


def _statements_at(minute: int) -> list[dict]:
    """Q_SLOWER: 10 calls a minute, 1 ms each for 10 minutes, then 3 ms; Q_NEW from minute 15, 4 calls of 2 ms a
    minute; Q_IDLE never runs."""
    slow_time = 10 * min(minute, 10) + 30 * max(0, minute - 10)
    found = [_statement(Q_SLOWER, 10 * minute, slow_time), _statement(Q_IDLE, 5, 50.0)]
    if minute >= 15:
        found.append(_statement(Q_NEW, 4 * (minute - 14), 8.0 * (minute - 14)))
    return found


def _database_at(minute: int) -> list[dict]:
    counters = dict.fromkeys(catalogue.metric("database_counters").stored.values, 0)
    counters.update(xact_commit=60 * minute, blks_hit=90 * minute, blks_read=10 * minute)
    return [{"datid": 5, "stats_reset": None, **counters}]


def write_history(engine, target: str, t0: datetime, minutes: int = 20) -> None:
    """A snapshot of every stored metric each minute from t0 (the first one the base), none in GAP minutes."""
    reads = {"statements": _statements_at, "database_counters": _database_at,
             "connection_states": lambda minute: [{"datid": 5, "state": "active", "connections": 2},
                                                  {"datid": 5, "state": "idle", "connections": 3}]}
    with engine.connect() as conn:
        target_id = store.target_id(conn, target, "postgresql://app:secret@db.example:5432/app")
        states = {}
        for minute in range(minutes + 1):
            if minute in GAP:
                continue
            for name, read in reads.items():
                snapshot = Snapshot(name, t0 + timedelta(minutes=minute, seconds=1), read(minute),
                                    stats_reset=t0 - timedelta(days=1) if name == "statements" else None, dealloc=0)
                batch, states[name] = next_batch(catalogue.metric(name), states.get(name), snapshot, set())
                assert store.write_batch(conn, target_id, batch)


@pytest.fixture
def history(store_engine):
    t0 = (datetime.now(UTC) - timedelta(minutes=30)).replace(second=0, microsecond=0)
    write_history(store_engine, "synthetic", t0)
    return store_engine, t0


def at(t0: datetime, minute: float) -> datetime:
    return t0 + timedelta(minutes=minute)


def test_statements_over_a_range_are_the_sums_of_their_deltas(history):
    engine, t0 = history
    frame = statements_over_range(engine, "synthetic", t0, at(t0, 21))
    assert frame["queryid"].tolist() == [Q_SLOWER, Q_NEW]  # by total time; the idle statement has no delta
    slower, new = frame.iloc[0], frame.iloc[1]
    assert (slower["calls"], slower["total_exec_time_ms"], slower["rows"]) == (200, 400.0, 200)
    assert slower["mean_exec_time_ms"] == pytest.approx(2.0) and slower["hit_ratio"] == pytest.approx(0.75)
    assert (new["calls"], new["total_exec_time_ms"]) == (24, 48.0)
    assert slower["time_share_ratio"] == pytest.approx(400 / 448) and slower["query"] == f"SELECT {Q_SLOWER} /* q */"
    trend = slower["calls_per_s_trend"]
    assert len(trend) == 21 and trend[0] is None and trend[8] is None and trend[9] is None  # gaps, never zeros
    assert trend[1] == pytest.approx(10 / 60) and trend[10] == pytest.approx(30 / 180)
    assert statements_over_range(engine, "synthetic", t0, at(t0, 21), sort_by="calls", limit=1)["queryid"].tolist() == [
        Q_SLOWER]


def test_a_statement_series_has_no_row_where_nothing_was_collected(history):
    engine, t0 = history
    series = statement_series(engine, "synthetic", Q_SLOWER, t0, at(t0, 21), bucket_s=60)
    minutes = [int((bucket - t0).total_seconds() // 60) for bucket in series["bucket_start"]]
    assert minutes == [m for m in range(1, 21) if m not in GAP]
    by_minute = series.set_index(pd.Index(minutes))
    assert by_minute.loc[1, "calls_per_s"] == pytest.approx(10 / 60) and by_minute.loc[1, "mean_exec_time_ms"] == 1.0
    assert by_minute.loc[10, "calls"] == 30 and by_minute.loc[10, "covered_s"] == 180  # one delta over the outage
    assert by_minute.loc[15, "mean_exec_time_ms"] == 3.0 and by_minute.loc[15, "rows_per_call"] == 1.0
    idle = statement_series(engine, "synthetic", Q_IDLE, t0, at(t0, 21), bucket_s=60)
    assert len(idle) == len(minutes) and (idle["calls"] == 0).all() and idle["mean_exec_time_ms"].isna().all()


def test_database_series_rates_and_connections(history):
    engine, t0 = history
    series = database_series(engine, "synthetic", t0, at(t0, 21), bucket_s=60)
    minutes = [int((bucket - t0).total_seconds() // 60) for bucket in series["bucket_start"]]
    assert minutes == [m for m in range(0, 21) if m not in GAP]  # connections are sampled from the first minute
    collected = series[series["covered_s"].notna()]
    assert (collected["transactions_per_s"] == 1.0).all() and (collected["hit_ratio"] == 0.9).all()
    assert (series["connections_active"] == 2).all() and (series["connections_idle"] == 3).all()
    assert series["transactions_per_s"].isna().tolist() == [True] + [False] * (len(series) - 1)  # the base: no delta


def test_what_changed_names_the_slower_and_the_new(history):
    engine, t0 = history
    changed = what_changed(engine, "synthetic", at(t0, 10.5), at(t0, 20.5))
    assert changed[["queryid", "change"]].values.tolist() == [[Q_SLOWER, "slower"], [Q_NEW, "new"]]
    assert changed.iloc[0]["mean_time_ratio"] == pytest.approx(3.0)
    assert what_changed(engine, "synthetic", at(t0, 10.5), at(t0, 20.5), min_ratio=3.5)["change"].tolist() == ["new"]


def test_history_extent_and_bad_ranges(history):
    engine, t0 = history
    first, last = history_extent(engine, "synthetic")
    assert (first, last) == (at(t0, 0) + timedelta(seconds=1), at(t0, 20) + timedelta(seconds=1))
    assert has_history(engine, "synthetic") and not has_history(engine, "never-collected")
    assert statements_over_range(engine, "never-collected", t0, at(t0, 5)).empty
    with pytest.raises(HistoryRangeError, match="before it starts"):
        statements_over_range(engine, "synthetic", at(t0, 5), t0)
    with pytest.raises(HistoryRangeError, match="timezone-aware"):
        statement_series(engine, "synthetic", Q_SLOWER, t0.replace(tzinfo=None), at(t0, 5).replace(tzinfo=None))
    with pytest.raises(HistoryRangeError, match="cannot sort statements by 'query'"):
        statements_over_range(engine, "synthetic", t0, at(t0, 5), sort_by="query")


def test_the_target_is_stored_by_name_and_location_only(history):
    engine, _ = history
    assert rows(engine.url.render_as_string(hide_password=False).replace("+psycopg", ""),
                "SELECT name, location FROM pgpulse.target") == [("synthetic", "db.example:5432/app")]


def test_retention_drops_whole_old_partitions(store_engine):
    today = datetime.now(UTC).date()
    with store_engine.connect() as conn:
        store.ensure_partitions(conn, [today - timedelta(days=20), today - timedelta(days=15), today - timedelta(days=3)])
        store.partitions_ahead(conn)
        dropped = store.drop_old_partitions(conn, retention_days=14)
        kept_days = {day for _, _, day in store.partitions(conn)}
    assert sorted(dropped) == sorted(f"{table}_p{(today - timedelta(days=ago)):%Y%m%d}"
                                     for table in store.TIME_SERIES_TABLES for ago in (20, 15))
    assert kept_days == {today - timedelta(days=3), today, today + timedelta(days=1), today + timedelta(days=2)}


def test_old_statement_deltas_roll_up_to_hours_and_keep_their_sums(store_engine):
    t0 = (datetime.now(UTC) - timedelta(days=3)).replace(hour=10, minute=0, second=0, microsecond=0)
    write_history(store_engine, "old", t0)
    before = statements_over_range(store_engine, "old", t0, at(t0, 60)).drop(columns="calls_per_s_trend")
    with store_engine.connect() as conn:
        assert store.roll_up(conn) == [t0.date()]  # the day is older than 2 days: kept per hour only
        remaining = [name for table, name, _ in store.partitions(conn) if table == "statement_delta"]
    after = statements_over_range(store_engine, "old", t0, at(t0, 60)).drop(columns="calls_per_s_trend")
    pd.testing.assert_frame_equal(before, after)
    assert f"statement_delta_p{t0:%Y%m%d}" not in remaining
    url = store_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    assert rows(url, "SELECT count(*) FROM pgpulse.statement_delta_hourly") == [(2,)]  # one row per statement and hour


def write_one_sample(conn, target: str, moment: datetime) -> None:
    """One active session sample in which one session waits on a lock, stored as the collector stores it."""
    aggregator = Aggregator()
    session = {"max_connections": 100, "query_id_computed": True, "pid": 7, "state": "active",
               "wait_event_type": "Lock", "wait_event": "transactionid", "query_id": 42, "user_name": "app",
               "application_name": "web", "database_name": "app", "client_addr": None, "backend_type": "client backend"}
    aggregator.add(moment, [session])
    store.write_activity(conn, store.target_id(conn, target, "postgresql://app@db.example:5432/app"), aggregator.drain())


def test_migrations_from_empty_and_from_the_previous_version(pg_admin_url):
    url = new_store(pg_admin_url)
    engine = make_engine(url)
    t0 = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=0, second=0, microsecond=0)
    try:
        with engine.connect() as conn:
            assert schema.current_revision(conn) is None
            schema.migrate(conn)
        write_history(engine, "kept", t0)  # nothing rolled up yet: read per collection
        before = statements_over_range(engine, "kept", at(t0, -5), at(t0, 50))
        with engine.connect() as conn:
            schema.downgrade(conn, "0003")  # the version before active session sampling, with that history in it
            assert schema.current_revision(conn) == "0003"
            assert rows(url, "SELECT to_regclass('pgpulse.activity_load')") == [(None,)]
            schema.migrate(conn)
            assert schema.current_revision(conn) == schema.head_revision()
            store.partitions_ahead(conn, now=t0)  # as the collector does after migrating
            write_one_sample(conn, "kept", at(t0, 5))
        pd.testing.assert_frame_equal(before, statements_over_range(engine, "kept", at(t0, -5), at(t0, 50)))
        sampled = database_load(engine, "kept", at(t0, 0), at(t0, 10))
        assert sampled[["dimension", "average_active_sessions"]].values.tolist() == [["Lock", 1.0]]
        with engine.connect() as conn:
            store.roll_up(conn)  # the sample's hour (3 h ago) rolled up, the watermark past it
            schema.downgrade(conn, "0006")  # the version before the activity roll-up
            assert rows(url, "SELECT to_regclass('pgpulse.activity_load_hourly')") == [(None,)]
            schema.migrate(conn)
        assert rows(url, "SELECT count(*), sum(samples) FROM pgpulse.activity_load_hourly") == [(1, 1)]
        hourly = database_load(engine, "kept", at(t0, 0), at(t0, 60), bucket_s=3600)
        assert hourly[["dimension", "average_active_sessions"]].values.tolist() == [["Lock", 1.0]]
        with engine.connect() as conn:
            schema.downgrade(conn, "0002")  # the previous schema version, with that history in it
            assert schema.current_revision(conn) == "0002"
            schema.migrate(conn)
            assert schema.current_revision(conn) == schema.head_revision()
        after = statements_over_range(engine, "kept", at(t0, -5), at(t0, 50))  # now read from the hour rolled up
        pd.testing.assert_frame_equal(before, after)
        assert rows(url, "SELECT count(*) FROM pgpulse.statement_delta_hourly") == [(2,)]
        with engine.connect() as conn:
            schema.downgrade(conn, "0002")
            assert rows(url, "SELECT to_regclass('pgpulse.rollup_watermark'), count(*) FROM pgpulse.statement_delta_hourly"
                        ) == [(None, 0)]
            schema.downgrade(conn, "base")
            assert rows(url, "SELECT count(*) FROM pg_tables WHERE schemaname = 'pgpulse'") == [(1,)]  # alembic_version
            schema.migrate(conn)
            assert schema.current_revision(conn) == schema.head_revision()
    finally:
        engine.dispose()


def test_complete_hours_are_read_from_the_roll_up_and_late_deltas_count_once(store_engine):
    t0 = (datetime.now(UTC) - timedelta(hours=3)).replace(minute=10, second=0, microsecond=0)
    write_history(store_engine, "hours", t0, minutes=70)  # 10:10 to 11:20: one complete hour, two partial ones
    ranges = [(at(t0, -10), at(t0, 80)), (at(t0, 5), at(t0, 65)), (at(t0, -10), at(t0, 50))]
    before = [statements_over_range(store_engine, "hours", *span) for span in ranges]
    series_before = statement_series(store_engine, "hours", Q_SLOWER, at(t0, -10), at(t0, 110), bucket_s=3600)
    with store_engine.connect() as conn:
        assert store.roll_up(conn) == []  # every complete hour rolled up; the day is kept per collection too
        watermark = rows(store_engine.url.render_as_string(hide_password=False).replace("+psycopg", ""),
                         "SELECT rolled_until FROM pgpulse.rollup_watermark")[0][0]
    assert watermark > at(t0, 70)
    for span, frame in zip(ranges, before, strict=True):
        pd.testing.assert_frame_equal(frame, statements_over_range(store_engine, "hours", *span))
    pd.testing.assert_frame_equal(series_before,
                                  statement_series(store_engine, "hours", Q_SLOWER, at(t0, -10), at(t0, 110), bucket_s=3600))
    # a delta the store receives late (it was down) for an hour already rolled up: counted once, in both forms
    with store_engine.connect() as conn:
        target_id = store.find_target_id(conn, "hours")
        state = store.load_state(conn, target_id, "statements", catalogue.metric("statements").stored.values)
        late = [_statement(Q_SLOWER, 10 * 70 + 9, 10 * 10 + 30 * 60 + 9.0), _statement(Q_IDLE, 5, 50.0),
                _statement(Q_NEW, 4 * 56, 8.0 * 56)]
        batch, _ = next_batch(catalogue.metric("statements"), state,
                              Snapshot("statements", at(t0, 70.5), late, stats_reset=t0 - timedelta(days=1), dealloc=0))
        assert store.write_batch(conn, target_id, batch)
    assert statements_over_range(store_engine, "hours", at(t0, -10), at(t0, 80)).set_index("queryid").loc[
        Q_SLOWER, "calls"] == before[0].set_index("queryid").loc[Q_SLOWER, "calls"] + 9


def write_samples(conn, target: str, moment: datetime, sessions: list[tuple[str | None, int]], samples: int = 2) -> None:
    """One 10 s bucket of `samples` samples; each session (wait_event_type, query_id) active in all of them."""
    aggregator = Aggregator()
    for number in range(samples):
        rows = [{"max_connections": 100, "query_id_computed": True, "pid": pid, "state": "active",
                 "wait_event_type": wait, "wait_event": wait and "x", "query_id": query_id, "user_name": "app",
                 "application_name": "web", "database_name": "app", "client_addr": None, "backend_type": "client backend"}
                for pid, (wait, query_id) in enumerate(sessions)]
        aggregator.add(moment + timedelta(seconds=number), rows)
    store.write_activity(conn, store.target_id(conn, target, "postgresql://app@db.example:5432/app"), aggregator.drain())


def test_session_samples_roll_up_to_hours_and_read_the_same(store_engine):
    t0 = (datetime.now(UTC) - timedelta(hours=5)).replace(minute=0, second=0, microsecond=0)
    with store_engine.connect() as conn:
        for minute in range(0, 180, 10):  # 3 hours, a bucket every 10 minutes: CPU in all, a lock wait in the 2nd hour
            write_samples(conn, "rolled", at(t0, minute), [(None, 1), *([("Lock", 2)] if 60 <= minute < 120 else [])])
    reads = {"hours": lambda: database_load(store_engine, "rolled", at(t0, 0), at(t0, 180), bucket_s=3600),
             "ten_minutes": lambda: database_load(store_engine, "rolled", at(t0, 0), at(t0, 180), bucket_s=600),
             "reference": lambda: load_reference(store_engine, "rolled", at(t0, 0), at(t0, 180))}
    before = {name: read() for name, read in reads.items()}
    assert before["hours"][before["hours"]["dimension"] == "Lock"]["average_active_sessions"].tolist() == [0.0, 1.0, 0.0]
    with store_engine.connect() as conn:
        store.roll_up(conn, now=at(t0, 180 + 61))  # the 3 hours are complete an hour ago
    url = store_engine.url.render_as_string(hide_password=False).replace("+psycopg", "")
    assert rows(url, "SELECT count(*), sum(samples) FROM pgpulse.activity_bucket_hourly") == [(3, 36)]
    assert rows(url, "SELECT count(*) FROM pgpulse.activity_load_hourly") == [(4,)]  # CPU each hour, Lock in one
    after = {name: read() for name, read in reads.items()}
    pd.testing.assert_frame_equal(before["hours"], after["hours"])
    pd.testing.assert_frame_equal(before["ten_minutes"], after["ten_minutes"])
    assert before["reference"] == after["reference"]
    rows(url, "DELETE FROM pgpulse.activity_load WHERE sampled_at < %s RETURNING 1", at(t0, 180))  # hours: from the roll-up
    pd.testing.assert_frame_equal(before["hours"], reads["hours"]())
    with store_engine.connect() as conn:  # a bucket written late, after its hour was rolled up, counts in that hour
        write_samples(conn, "rolled", at(t0, 5), [("Lock", 2)])
    late = reads["hours"]()
    first_hour = late[late["bucket_start"] == at(t0, 0)].set_index("dimension")["average_active_sessions"]
    assert first_hour.to_dict() == {"CPU": 12 / 14, "Lock": 2 / 14}  # 6 buckets of 2 samples, then 1 more
