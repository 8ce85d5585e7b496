"""The fleet figures on real servers: exact figures for a known state, a stopped server unreachable (with its reason)
and back, one read per server however many of its databases are targets."""
from __future__ import annotations

import asyncio
import threading
import time

import pandas as pd
import psycopg
import pytest

from collector import Collector, TargetConfig
from demo.postgres import DEMO_SETTINGS
from queries.connection import make_engine
from queries.fleet import fleet_databases
from queries.history.fleet import fleet_overview
from tests.conftest import create_database, start_cluster
from tests.history_support import FAST_PACES, collect_once, new_store, rows


@pytest.fixture
def store(pg_admin_url) -> str:
    return new_store(pg_admin_url)


def fleet_row(store_url: str, target: str) -> dict:
    engine = make_engine(store_url, pool_size=1)
    try:
        frame = fleet_overview(engine, [target])
    finally:
        engine.dispose()
    return frame.iloc[0].to_dict()


def hold_transaction(url: str, opened: threading.Event, release: threading.Event) -> None:
    with psycopg.connect(url) as conn:
        conn.execute("SELECT txid_current()")  # an open transaction with an xid
        opened.set()
        release.wait(30)
        conn.rollback()


def frozen_age_of(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT age(datfrozenxid) FROM pg_database WHERE datname = current_database()").fetchone()[0]


def test_figures_of_a_known_state(store, fresh_db):
    opened, release = threading.Event(), threading.Event()
    holder = threading.Thread(target=hold_transaction, args=(fresh_db, opened, release))
    holder.start()
    try:
        opened.wait(10)
        time.sleep(2.2)  # the transaction is at least 2 s old when the collector reads
        frozen_before = frozen_age_of(fresh_db)
        assert collect_once(store, ("app", fresh_db))
    finally:
        release.set()
        holder.join()
    with psycopg.connect(fresh_db) as conn:
        max_connections = int(conn.execute("SHOW max_connections").fetchone()[0])
        version = conn.execute("SHOW server_version").fetchone()[0]
    row = fleet_row(store, "app")
    assert row["reachable"] is True and row["error"] is None
    assert row["server_version"] == version
    assert row["max_connections"] == max_connections
    assert row["oldest_xact_age_s"] >= 2.0
    assert row["database_connections"] >= 1  # the session holding the transaction
    assert row["server_connections"] >= row["database_connections"]
    # the age grows by the xids used since: the collector's own writes to the store (on this server) use some
    assert frozen_before <= row["wraparound_age_xids"] <= frozen_age_of(fresh_db)
    assert row["wraparound_ratio"] == pytest.approx(row["wraparound_age_xids"] / 2 ** 31)
    assert row["in_recovery"] is False and pd.isna(row["replication_lag_s"])  # no standby: no lag
    assert row["uptime_s"] > 0
    assert pd.isna(row["failing_checks"]) and pd.isna(row["checks_age_s"])  # collect --once judges no check
    assert row["figures_age_s"] >= 0


def test_a_failing_check_is_counted_with_its_page(store, fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE twice AS SELECT 1 AS n UNION ALL SELECT 1")
        with pytest.raises(psycopg.errors.UniqueViolation):  # leaves the index behind, INVALID
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY twice_n ON twice (n)")
    # a catalog check: judged by the running collector at its statistics pace (collect --once judges none)
    collector = Collector([TargetConfig("app", fresh_db)], store, paces=FAST_PACES, catalog_checks_every_s=1)
    row = run_while(collector, lambda: wait_for(lambda: fleet_row(store, "app"),
                                                lambda found: found["checks_age_s"] == found["checks_age_s"]
                                                and bool(found["failing_checks"])))
    failing = {item["check"]: item for item in row["failing_check_list"]}
    assert row["failing_checks"] == len(failing)
    assert failing["Invalid indexes"]["page"] == "indexes"
    assert failing["Invalid indexes"]["detail"] == "1 invalid index"


def run_while(collector: Collector, scenario):
    """Run the collector while scenario() runs in a thread; its result."""
    stop = asyncio.Event()

    async def main():
        running = asyncio.create_task(collector.run(stop))
        try:
            return await asyncio.to_thread(scenario)
        finally:
            stop.set()
            await running

    return asyncio.run(main())


def fleet_reads(admin_url: str) -> int:
    """Calls of the fleet read on the server, every database's, per pg_stat_statements."""
    with psycopg.connect(admin_url) as conn:
        (calls,) = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements "
                                "WHERE query LIKE '%LEFT JOIN sessions s ON s.datname = d.datname%'").fetchone()
    return int(calls)


def test_one_read_per_server_for_several_databases(store, pg_admin_url, fresh_db):
    other = create_database(pg_admin_url, "fleet_second")
    engine = make_engine(fresh_db, pool_size=1)
    try:
        listed = fleet_databases(engine)
    finally:
        engine.dispose()
    assert {fresh_db.rsplit("/", 1)[1], "fleet_second", "postgres"} <= set(listed["database_name"])
    assert "template0" not in set(listed["database_name"])
    before = fleet_reads(fresh_db)
    assert collect_once(store, ("one", fresh_db), ("two", other))
    assert fleet_reads(fresh_db) == before + 1  # two targets, one server: one read
    assert sorted(name for (name,) in rows(store, "SELECT t.name FROM pgpulse.fleet_state JOIN pgpulse.target t "
                                                  "USING (target_id) WHERE reachable")) == ["one", "two"]


@pytest.fixture
def second_cluster(pg_version, tmp_path):
    version = str(pg_version // 10000)
    cluster = start_cluster(version, tmp_path / "second", settings=dict(DEMO_SETTINGS))
    yield cluster
    cluster.stop(mode="immediate")


def wait_for(read, ready, timeout_s: float = 30.0):
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            found = read()
        except Exception:  # the collector has not migrated the store yet
            found = None
        if found is not None and ready(found) or time.monotonic() > deadline:
            return found
        time.sleep(0.2)


def test_a_stopped_server_is_unreachable_with_its_reason_and_recovers(store, fresh_db, second_cluster):
    second = create_database(second_cluster.url(), "away")
    collector = Collector([TargetConfig("here", fresh_db), TargetConfig("away", second)], store, paces=FAST_PACES)
    observed: dict[str, dict] = {}
    def scenario() -> None:
        observed["both"] = wait_for(lambda: (fleet_row(store, "here"), fleet_row(store, "away")),
                                    lambda pair: all(row["reachable"] is True for row in pair))
        stopped_at = time.monotonic()
        second_cluster.stop(mode="immediate")
        observed["down"] = wait_for(lambda: fleet_row(store, "away"), lambda row: row["reachable"] is False)
        observed["down_after_s"] = time.monotonic() - stopped_at
        observed["here_meanwhile"] = fleet_row(store, "here")
        second_cluster.start()
        observed["back"] = wait_for(lambda: fleet_row(store, "away"), lambda row: row["reachable"] is True)

    run_while(collector, scenario)
    down = observed["down"]
    assert down["reachable"] is False
    assert "unreachable" in down["error"] or "shutting down" in down["error"]
    assert "postgresql://" not in down["error"] and "postgres:" not in down["error"].split("shutting")[0]
    assert down["server_version"] == observed["both"][1]["server_version"]  # the last figures are kept, with their age
    assert down["figures_age_s"] >= down["checked_age_s"]
    here = observed["here_meanwhile"]
    assert here["reachable"] is True and here["checked_age_s"] < 5  # the other server went on being polled
    assert observed["back"]["reachable"] is True and observed["back"]["error"] is None
