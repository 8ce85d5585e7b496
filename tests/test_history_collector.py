"""The collector on real servers: exact deltas, a reset, eviction, a restart, a target down, the store down, two
collectors on one store, and no password anywhere in the store."""
from __future__ import annotations

import asyncio
import json
import logging
import subprocess
import time
from datetime import UTC, datetime, timedelta

import psycopg
import pytest

from collector import Collector, TargetConfig
from dashboard.config import REPO_ROOT
from demo.postgres import DEMO_SETTINGS, embedded_bin_dir
from queries.connection import make_engine
from queries.history import database_series
from tests.conftest import create_database, flush_statistics, run_and_flush, start_cluster
from tests.history_support import FAST_PACES, collect_once, new_store, rows, statement_calls

pytestmark = pytest.mark.all_versions  # the collector reads version-dependent views: every supported version

PROBE = "SELECT count(*) FROM probe WHERE id < $1"


@pytest.fixture
def store(pg_admin_url) -> str:
    return new_store(pg_admin_url)


@pytest.fixture
def target(fresh_db) -> str:
    run_and_flush(fresh_db, "CREATE TABLE probe AS SELECT g AS id FROM generate_series(1, 100) g")
    return fresh_db


def run_probe(url: str, times: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for limit in range(times):
            conn.execute("SELECT count(*) FROM probe WHERE id < %s", (limit,))
        flush_statistics(conn)


@pytest.fixture(scope="module")
def small_cluster(pg_version, tmp_path_factory):
    """A cluster of its own (restarted by the tests), of the session server's version, with pg_stat_statements.max
    at its minimum, 100."""
    version = str(pg_version // 10000)
    cluster = start_cluster(version, tmp_path_factory.mktemp(f"small{version}"),
                            settings={**DEMO_SETTINGS, "pg_stat_statements.max": "100"})
    yield cluster
    cluster.stop(mode="immediate")


def test_n_calls_between_two_collections_are_a_delta_of_n(store, target):
    assert collect_once(store, ("app", target))  # the base: no delta yet
    assert statement_calls(store, "app", "%FROM probe%") == []
    run_probe(target, 7)
    assert collect_once(store, ("app", target))  # a restarted collector continues from the stored snapshot
    assert statement_calls(store, "app", "%FROM probe WHERE id <%") == [7]
    run_probe(target, 3)
    assert collect_once(store, ("app", target))
    assert statement_calls(store, "app", "%FROM probe WHERE id <%") == [7, 3]
    (query,) = rows(store, "SELECT query FROM pgpulse.statement_text WHERE query LIKE '%FROM probe WHERE id <%'")[0]
    assert query == PROBE  # the text once, as pg_stat_statements normalised it
    commits = rows(store, "SELECT xact_commit FROM pgpulse.database_delta ORDER BY sampled_at")
    assert len(commits) == 2 and all(count >= 3 for (count,) in commits)
    evictions = rows(store, "SELECT evictions, stats_reset FROM pgpulse.statement_collection ORDER BY sampled_at")
    assert evictions == [(0, False), (0, False)]


def test_a_reset_between_two_collections_counts_what_ran_after_it(store, target):
    collect_once(store, ("app", target))
    run_probe(target, 5)
    collect_once(store, ("app", target))
    run_probe(target, 3)
    run_and_flush(target, "SELECT pg_stat_statements_reset()")  # by the test: pgpulse never resets
    run_probe(target, 4)
    collect_once(store, ("app", target))
    assert statement_calls(store, "app", "%FROM probe WHERE id <%") == [5, 4]
    assert rows(store, "SELECT stats_reset FROM pgpulse.statement_collection ORDER BY sampled_at") == [(False,), (True,)]
    assert rows(store, "SELECT count(*) FROM pgpulse.statement_delta WHERE calls < 0 OR total_exec_time_ms < 0") == [(0,)]


def test_pgpulse_never_resets_statements(store, target):
    with psycopg.connect(target) as conn:
        before = conn.execute("SELECT stats_reset FROM pg_stat_statements_info").fetchone()[0]
    collect_once(store, ("app", target))
    collect_once(store, ("app", target))
    with psycopg.connect(target) as conn:
        assert conn.execute("SELECT stats_reset FROM pg_stat_statements_info").fetchone()[0] == before


def _churn(url: str, count: int) -> None:
    """`count` distinct statements (1 to count columns), each run once."""
    with psycopg.connect(url, autocommit=True) as conn:
        for columns in range(1, count + 1):
            conn.execute("SELECT " + ", ".join(["1"] * columns))


def _queries_page_warns_of(evicted: int, target: str, store: str, monkeypatch) -> None:
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    monkeypatch.setenv("PGPULSE_TARGETS", json.dumps({"small": target}))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    monkeypatch.setenv("PGPULSE_SECRETS", "/nonexistent.toml")
    st.cache_data.clear()
    app = AppTest.from_file(str(REPO_ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/queries.py").run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert [w.value for w in app.warning if "evicted" in w.value] == [
        f"pg_stat_statements evicted {evicted:,} entries during the last 1 h to make room for new ones: the least-run "
        "statements are forgotten and start again from zero. Raise pg_stat_statements.max (a restart is needed) until "
        "no entry is evicted."]
    st.cache_data.clear()


def test_evictions_are_counted_and_never_double_count(small_cluster, tmp_path, monkeypatch):
    target = create_database(small_cluster.url(), "evicting")
    store = new_store(small_cluster.url())
    collect_once(store, ("small", target))
    _churn(target, 300)
    collect_once(store, ("small", target))
    _churn(target, 300)
    with psycopg.connect(target) as conn:
        dealloc = conn.execute("SELECT dealloc FROM pg_stat_statements_info").fetchone()[0]
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    collect_once(store, ("small", target))
    evictions = [count for (count,) in rows(store, "SELECT evictions FROM pgpulse.statement_collection ORDER BY sampled_at")]
    assert evictions[0] > 0 and evictions[1] > 0  # pg_stat_statements.max = 100 is too small: churn shows
    assert sum(evictions) <= dealloc + 5  # what pg_stat_statements_info counted (the collector's reads may add a few)
    # every churn statement ran once in the last interval: its delta is 1 whether it survived or was evicted and came
    # back (17+ tells by stats_since; before 17 an entry evicted and re-created between two reads shows 0: no row)
    last = rows(store, """SELECT d.calls FROM pgpulse.statement_delta d
                         JOIN pgpulse.statement_text s USING (target_id, queryid)
                         WHERE s.query LIKE 'SELECT $1%'
                           AND d.sampled_at = (SELECT max(sampled_at) FROM pgpulse.statement_delta)""")
    assert last and all(calls == 1 for (calls,) in last)
    assert rows(store, "SELECT count(*) FROM pgpulse.statement_delta WHERE calls < 0") == [(0,)]
    series = database_series(make_engine(store), "small", datetime.now(UTC) - timedelta(hours=1), datetime.now(UTC))
    assert int(series["evictions"].sum()) == sum(evictions)  # the figure the Queries page's range view warns with
    if version >= 180000:
        _queries_page_warns_of(sum(evictions), target, store, monkeypatch)
    if version >= 170000:  # stats_since tells every re-created entry: each churn entry present has its delta
        present = rows(store, "SELECT count(*) FROM pgpulse.counter_state WHERE metric = 'statements'")[0][0]
        assert len(last) >= present - 25  # the rest: our own reads (the fleet figures among them) and the probe's setup


def test_a_server_restart_neither_loses_kept_counters_nor_counts_them_twice(small_cluster, store):
    target = create_database(small_cluster.url(), "restarting")  # the store is elsewhere: it must not crash with it
    # by the test, so the eviction test's churn on this small cluster cannot evict the probe here
    run_and_flush(target, "CREATE TABLE probe AS SELECT g AS id FROM generate_series(1, 100) g",
                  "SELECT pg_stat_statements_reset()")
    assert collect_once(store, ("small", target))
    run_probe(target, 3)
    assert collect_once(store, ("small", target))
    run_probe(target, 2)
    small_cluster.stop(mode="fast")  # a clean shutdown saves pg_stat_statements: the 2 calls are kept
    small_cluster.start()
    run_probe(target, 4)
    assert collect_once(store, ("small", target))
    run_probe(target, 5)
    small_cluster.stop(mode="immediate")  # 18 loses the counters since the last start; 15 still saves them
    small_cluster.start()
    run_probe(target, 1)
    (calls,) = rows(target, "SELECT calls FROM pg_stat_statements WHERE query LIKE '%FROM probe WHERE id <%'")[0]
    assert collect_once(store, ("small", target))
    assert calls in (1, 15)
    # kept: the 5 calls before the restart and the 1 after; lost: the 1 call the server knows of, never a negative
    assert statement_calls(store, "small", "%FROM probe WHERE id <%") == [3, 6, 6 if calls == 15 else 1]
    assert rows(store, "SELECT server_restarted FROM pgpulse.statement_collection ORDER BY sampled_at") == [
        (False,), (True,), (True,)]
    assert rows(store, "SELECT count(*) FROM pgpulse.database_delta WHERE xact_commit < 0 OR blks_hit < 0") == [(0,)]


def test_a_target_down_is_a_gap_and_the_others_go_on(small_cluster, store, target, caplog):
    other = create_database(small_cluster.url(), "going_down")
    targets = [TargetConfig("app", target), TargetConfig("other", other)]

    async def scenario():
        collector = Collector(targets, store)
        try:
            await collector.collect_once()
            small_cluster.stop(mode="fast")
            down_at = time.time()
            for calls in (2, 3):
                run_probe(target, calls)
                await collector.collect_once()
            small_cluster.start()
            up_at = time.time()
            await collector.collect_once()
            return down_at, up_at
        finally:
            await collector.close()

    with caplog.at_level(logging.INFO, logger="pgpulse.collector"):
        down_at, up_at = asyncio.run(scenario())
    assert statement_calls(store, "app", "%FROM probe WHERE id <%") == [2, 3]
    other_times = rows(store, """SELECT extract(epoch FROM sampled_at), interval_s FROM pgpulse.database_delta
                                 JOIN pgpulse.target USING (target_id) WHERE name = 'other'""")
    # nothing while it was down: one delta after, covering the whole outage (never zeros in between)
    assert len(other_times) == 1 and other_times[0][0] > up_at and other_times[0][1] >= up_at - down_at
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING and "target other" in r.getMessage()]
    assert len(warnings) == 1 and "unreachable" in warnings[0]
    assert [r.getMessage() for r in caplog.records if "reachable again" in r.getMessage()] == ["target other: reachable again"]


def test_the_store_down_loses_nothing(small_cluster, target, caplog):
    store = new_store(small_cluster.url())

    async def scenario():
        collector, stop = Collector([TargetConfig("app", target)], store, paces=FAST_PACES), asyncio.Event()
        running = asyncio.create_task(collector.run(stop))
        await asyncio.sleep(2.5)
        run_probe(target, 4)
        await asyncio.sleep(1.5)
        await asyncio.to_thread(small_cluster.stop, "fast")
        for _ in range(3):
            await asyncio.to_thread(run_probe, target, 5)
            await asyncio.sleep(1.2)
        await asyncio.to_thread(small_cluster.start)
        await asyncio.sleep(4)
        stop.set()
        await running

    with caplog.at_level(logging.INFO, logger="pgpulse.collector"):
        asyncio.run(scenario())
    assert sum(statement_calls(store, "app", "%FROM probe WHERE id <%")) == 4 + 15
    messages = [r.getMessage() for r in caplog.records]
    assert len([m for m in messages if m.startswith("history store") and "reachable again" not in m]) == 1
    assert len([m for m in messages if m.startswith("history store") and "reachable again" in m]) == 1
    assert not any("password" in m.lower() or "://" in m for m in messages)


def test_two_collectors_on_one_store_store_every_delta_once(store, target):
    async def scenario():
        first = Collector([TargetConfig("app", target)], store, paces=FAST_PACES)
        second = Collector([TargetConfig("app", target)], store, paces=FAST_PACES)
        stop_first, stop_second = asyncio.Event(), asyncio.Event()
        tasks = [asyncio.create_task(first.run(stop_first)), asyncio.create_task(second.run(stop_second))]
        while not any(held.states.get("statements") for c in (first, second) for held in c.held.values()):
            await asyncio.sleep(0.1)  # the base snapshot is read: every probe from now on is a delta
        for _ in range(4):
            await asyncio.to_thread(run_probe, target, 3)
            await asyncio.sleep(0.7)
        holder, stop_holder = (first, stop_first) if first.held else (second, stop_second)
        other = second if holder is first else first
        assert holder.held and not other.held  # one collector polls the target, the other waits
        stop_holder.set()  # the holder goes away: the other takes the target over within one interval
        await tasks[0 if holder is first else 1]
        for _ in range(4):
            await asyncio.to_thread(run_probe, target, 2)
            await asyncio.sleep(0.7)
        assert other.held
        (stop_second if holder is first else stop_first).set()
        await asyncio.gather(*tasks)

    asyncio.run(scenario())
    collect_once(store, ("app", target))
    assert sum(statement_calls(store, "app", "%FROM probe WHERE id <%")) == 4 * 3 + 4 * 2
    assert rows(store, """SELECT count(*) FROM (SELECT sampled_at, queryid, userid, toplevel FROM pgpulse.statement_delta
                          GROUP BY 1, 2, 3, 4 HAVING count(*) > 1) twice""") == [(0,)]


def test_no_password_of_a_target_url_reaches_the_store(pg_server, store, target, tmp_path):
    secret = "Sw0rdfish-9481"
    with psycopg.connect(target, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE hist_pw LOGIN SUPERUSER PASSWORD '{secret}'")
        conn.execute(f"ALTER ROLE hist_pw PASSWORD '{secret}'")
    url = target.replace("postgres@", f"hist_pw:{secret}@")
    try:
        collect_once(store, ("secretive", url))
        run_probe(target, 2)
        collect_once(store, ("secretive", url))
        # the wheel's pg_dump 18 dumps every older server too (the npm packages ship no pg_dump)
        dump = subprocess.run([str(embedded_bin_dir() / "pg_dump"), "--data-only", store], capture_output=True, text=True,
                              check=True).stdout
    finally:
        with psycopg.connect(target, autocommit=True) as conn:
            conn.execute("DROP ROLE hist_pw")
    assert "ALTER ROLE hist_pw PASSWORD" in dump  # the statement is kept, masked
    assert secret not in dump and "://" not in dump
    assert rows(store, "SELECT name, location FROM pgpulse.target") == [
        ("secretive", f"127.0.0.1:{pg_server.port}/{target.rsplit('/', 1)[1]}")]
