"""queries.activity.activity_snapshot: the Activity page's one transaction, against real sessions.

Each test creates the sessions it asserts on (a lock holder and its waiter, idle and aborted transactions,
a long query, running VACUUM / ANALYZE / CREATE INDEX) and checks the snapshot's exact rows and that its
panels agree with each other. The standalone functions (queries.activity.<name>) derive their frames with
the same code from a read of their own: tests/test_queries_activity.py checks their rows.
"""
from __future__ import annotations

import threading
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.activity import (
    BLOCKING_TREE_COLUMNS,
    activity_snapshot,
    blocking_tree,
    connection_usage,
    connections,
    idle_in_transaction,
    long_running_queries,
    session_counts,
)
from queries.connection import make_engine
from queries.errors import PgPulseError
from tests.conftest import create_database, poll, with_database
from tests.test_queries_activity import maintenance_running, rows, sessions, table_t, wait_for  # noqa: F401 - fixtures

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

MAINTENANCE = ["pid", "operation", "database_name", "relation", "phase", "progress_ratio", "started_seconds",
               "backend_type", "query"]


@pytest.fixture
def scene(engine, sessions, table_t):  # noqa: F811 - pytest fixtures
    """A lock holder idle in its transaction with a waiter, an idle and an aborted transaction, and a
    pg_sleep: every one running for over a second, all under one application_name."""
    app = f"snap-{uuid.uuid4().hex[:8]}"
    blocker, blocked, idler, aborted, sleeper = (sessions(app) for _ in range(5))
    sleeper.start("SELECT pg_sleep(30)")
    blocker.run("BEGIN")
    blocker.run("UPDATE t SET v = v + 1 WHERE id = 1")
    blocked.start("UPDATE t SET v = v + 10 WHERE id = 1")
    idler.run("BEGIN")
    idler.run("SELECT 1")
    aborted.run("BEGIN")
    with pytest.raises(psycopg.errors.DivisionByZero):
        aborted.run("SELECT 1 / 0")
    wait_for(lambda: long_running_queries(engine, min_seconds=1), lambda frame: len(frame) == 2)
    wait_for(lambda: idle_in_transaction(engine, min_seconds=1), lambda frame: len(frame) == 3)
    return {"app": app, "blocker": blocker.pid, "blocked": blocked.pid, "idler": idler.pid, "aborted": aborted.pid,
            "sleeper": sleeper.pid}


def test_every_panel_lists_the_sessions_it_should_and_they_agree(engine, scene, fresh_db):
    snap = activity_snapshot(engine, min_seconds=1)
    blocker, blocked, idler, aborted, sleeper = (scene[key] for key in ("blocker", "blocked", "idler", "aborted", "sleeper"))

    assert rows(snap.blocking_tree, ["pid", "blocking_pid", "depth", "state", "lock_mode", "locktype"]) == [
        (blocker, None, 0, "idle in transaction", "ExclusiveLock", "transactionid"),
        (blocked, blocker, 1, "active", "ShareLock", "transactionid")]
    assert rows(snap.long_running_queries, ["pid", "wait_event_type", "wait_event", "query"]) == [
        (sleeper, "Timeout", "PgSleep", "SELECT pg_sleep(30)"),
        (blocked, "Lock", "transactionid", "UPDATE t SET v = v + 10 WHERE id = 1")]
    assert (snap.long_running_queries["query_seconds"] >= 1).all()
    assert rows(snap.idle_in_transaction, ["pid", "state", "last_query"]) == [
        (blocker, "idle in transaction", "UPDATE t SET v = v + 1 WHERE id = 1"),
        (idler, "idle in transaction", "SELECT 1"),
        (aborted, "idle in transaction (aborted)", "SELECT 1 / 0")]
    waits = snap.wait_events[snap.wait_events["wait_event_type"].isin(["Lock", "Timeout"])]
    assert rows(waits, ["wait_event_type", "wait_event", "backend_count"]) == [
        ("Lock", "transactionid", 1), ("Timeout", "PgSleep", 1)]
    mine = snap.connections[snap.connections["application_name"] == scene["app"]]
    database = make_url(fresh_db).database
    assert rows(mine, ["state", "database_name", "user_name", "connection_count"]) == [
        ("active", database, "postgres", 2), ("idle in transaction", database, "postgres", 2),
        ("idle in transaction (aborted)", database, "postgres", 1)]
    assert (snap.can_read_all_stats, snap.role_name, snap.unavailable) == (True, "postgres", {})

    # one backend snapshot: every session a panel names is in the session list, in the same state
    everyone = snap.activity.set_index("pid")
    assert everyone.loc[blocked, "blocked_by"] == [blocker] and everyone.loc[blocker, "blocked_by"] == []
    for frame in (snap.blocking_tree, snap.idle_in_transaction):
        assert dict(zip(frame["pid"], frame["state"], strict=True)) == everyone.loc[frame["pid"], "state"].to_dict()
    assert (snap.long_running_queries.set_index("pid")["query_start"]
            == everyone.loc[snap.long_running_queries["pid"], "query_start"]).all()
    assert snap.usage.total_connections == len(snap.activity) == snap.connections["connection_count"].sum()
    assert snap.usage.usage_ratio == snap.usage.total_connections / snap.usage.max_connections


def test_thresholds_and_limits_apply_to_their_panels(engine, scene):
    snap = activity_snapshot(engine, min_seconds=3600, idle_min_seconds=3600, limit=2, row_limit=1)
    assert snap.long_running_queries.empty and snap.idle_in_transaction.empty
    assert list(snap.long_running_queries.columns) == ["pid", "user_name", "database_name", "application_name",
                                                       "client_addr", "wait_event_type", "wait_event", "query_start",
                                                       "query_seconds", "xact_seconds", "query"]
    # the scene's sessions keep their timestamps: the limit takes the head of the same order as without one
    # (the lock holder's transaction and the sleeper are the oldest busy sessions)
    assert snap.activity["pid"].tolist() == activity_snapshot(engine).activity["pid"].tolist()[:2]
    assert set(snap.activity["pid"]) == {scene["blocker"], scene["sleeper"]}
    assert snap.usage.total_connections > 2  # counted over every session, not the listed ones
    limited = activity_snapshot(engine, min_seconds=1, row_limit=1)
    assert limited.long_running_queries["pid"].tolist() == [scene["sleeper"]]
    assert limited.idle_in_transaction["pid"].tolist() == [scene["blocker"]]


def test_a_quiet_server_has_an_empty_tree_with_its_columns(engine):
    snap = activity_snapshot(engine)
    assert list(snap.blocking_tree.columns) == list(BLOCKING_TREE_COLUMNS)
    assert snap.blocking_tree.equals(blocking_tree(engine))  # the tree's query is skipped: nobody waits on a lock
    assert snap.maintenance_progress.empty and list(snap.maintenance_progress.columns) == MAINTENANCE
    assert snap.long_running_queries.empty and snap.idle_in_transaction.empty
    assert snap.frame("blocking_tree") is snap.blocking_tree


def test_maintenance_progress_comes_with_its_session_columns(engine, maintenance_running):  # noqa: F811
    vacuum, analyze, create_index, _ = maintenance_running
    snap = activity_snapshot(engine)
    progress = snap.maintenance_progress.set_index("pid")
    assert {pid: tuple(progress.loc[pid, ["operation", "relation", "backend_type", "query"]]) for pid in progress.index} == {
        vacuum.pid: ("vacuum", "public.vac", "client backend", "VACUUM vac"),
        analyze.pid: ("analyze", "public.ana", "client backend", "ANALYZE ana"),
        create_index.pid: ("create index", "public.idx", "client backend", "CREATE INDEX CONCURRENTLY idx_id ON idx (id)")}
    assert snap.maintenance_progress["started_seconds"].is_monotonic_decreasing
    assert list(snap.maintenance_progress.columns) == MAINTENANCE
    everyone = snap.activity.set_index("pid")  # the same snapshot: each one's session is listed, and its start
    for pid, started in progress["started_seconds"].items():
        assert everyone.loc[pid, "xact_seconds"] == pytest.approx(started, abs=0.05)


def test_text_keys_sort_in_the_database_collation(pg_admin_url):
    """Connection counts tie-break on text in the database's collation (as ORDER BY would), also where that
    is not Python's code-point order: in the snapshot and in connections()."""
    name = f"t_icu_{uuid.uuid4().hex[:8]}"
    try:
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'CREATE DATABASE "{name}" TEMPLATE template0 LOCALE_PROVIDER icu ICU_LOCALE \'und\' LOCALE \'C\'')
    except psycopg.Error:
        name = None  # no ICU in this build: the database collation is C, still checked below
    url = with_database(pg_admin_url, name) if name else create_database(pg_admin_url, f"t_c_{uuid.uuid4().hex[:8]}")
    opened = [psycopg.connect(url, autocommit=True, application_name=app) for app in ("Zeta", "alpha", "Beta", "beta")]
    icu_engine = make_engine(url)
    try:
        # ICU: letters before case, unlike code points ('Beta' < 'Zeta' < 'alpha' < 'beta'), which C sorts by
        expected = ["alpha", "beta", "Beta", "Zeta"] if name else ["Beta", "Zeta", "alpha", "beta"]
        for frame in (activity_snapshot(icu_engine).connections, connections(icu_engine)):
            assert [app for app in frame["application_name"] if app in set(expected)] == expected
    finally:
        icu_engine.dispose()
        for conn in opened:
            conn.close()
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{make_url(url).database}" WITH (FORCE)')


def test_a_failing_panel_query_leaves_the_other_panels(engine, fresh_db):
    """pg_class locked (as VACUUM FULL pg_class would) and a session queued behind the lock: the blocking
    tree, which names relations, hits lock_timeout in its savepoint; the sessions, read without pg_class,
    are all there, the waiter among them."""
    quick = make_engine(fresh_db, lock_timeout_ms=200)
    activity_snapshot(quick)  # connected, and the catalog cached, before pg_class is locked
    with psycopg.connect(fresh_db) as locker, psycopg.connect(fresh_db, autocommit=True) as waiter:
        locker.execute("LOCK TABLE pg_class IN ACCESS EXCLUSIVE MODE")
        waiter.execute("SET statement_timeout = '3s'")
        waiting = threading.Thread(target=lambda: _ignore_errors(waiter, "SELECT count(*) FROM pg_class"))
        waiting.start()
        snap = poll(lambda: activity_snapshot(quick), lambda found: bool(found.unavailable))
        locker_pid, waiter_pid = locker.info.backend_pid, waiter.info.backend_pid
        locker.rollback()
        waiting.join()
    quick.dispose()
    assert snap.blocking_tree is None and list(snap.unavailable) == ["blocking_tree"]
    assert "lock_timeout" in snap.unavailable["blocking_tree"]
    with pytest.raises(PgPulseError, match="lock_timeout"):
        snap.frame("blocking_tree")
    assert snap.frame("activity") is snap.activity and {locker_pid, waiter_pid} <= set(snap.activity["pid"])
    assert snap.activity.set_index("pid").loc[waiter_pid, "wait_event_type"] == "Lock"
    assert snap.usage.total_connections == len(snap.activity)


def _ignore_errors(conn, statement: str) -> None:
    try:
        conn.execute(statement)
    except psycopg.Error:
        pass


def test_the_live_health_checks_read_the_same_snapshot(engine, scene, fresh_db):
    from queries.health import health_checks

    # the counter stays open for every count below: a closed backend lingers in pg_stat_activity for a moment
    with psycopg.connect(fresh_db, autocommit=True) as counter:
        # the scene's sessions, the engine's (idle in its pool) and this one
        expected_clients = counter.execute(
            "SELECT count(*) FROM pg_stat_activity WHERE backend_type = 'client backend'").fetchone()[0]
        counts = session_counts(engine, min_seconds=1, idle_min_seconds=1)
        assert (counts.long_running_queries, counts.idle_in_transaction, counts.can_read_all_stats, counts.role_name) == (
            2, 3, True, "postgres")
        assert counts.usage.total_connections == expected_clients
        capped = session_counts(engine, min_seconds=1, idle_min_seconds=1, row_limit=1)  # len() of a frame of 1 row
        assert (capped.long_running_queries, capped.idle_in_transaction) == (1, 1)

        checks = health_checks(engine, groups=("live",), long_query_s=1, idle_in_transaction_s=1).set_index("check")
        assert checks.loc["Long-running queries", ["status", "value", "detail"]].tolist() == [
            "warn", 2.0, "2 queries running longer than 1 s"]
        assert checks.loc["Idle in transaction", ["status", "value", "detail"]].tolist() == [
            "warn", 3.0, "3 sessions idle in transaction over 1 s"]
        usage = connection_usage(engine)
        assert checks.loc["Connection usage", ["status", "value"]].tolist() == ["pass", usage.usage_ratio]
    from queries.catalogue import health_checks_declared

    assert list(checks.index) == [check.name for check, metric in health_checks_declared("postgres")
                                  if check.group(metric) == "live"]
    assert {"Long-running queries", "Idle in transaction", "Blocked sessions", "Connection usage",
            "Buffer cache hit ratio"} <= set(checks.index)
