"""Active session sampling on real servers: a sleeping session is one active session with its statement, a row lock
wait is kept as the blocking tree of that moment, and the Database load reads them back."""
from __future__ import annotations

import base64
import json
import threading
from datetime import UTC, datetime, timedelta

import numpy as np
import psycopg
import pytest

from queries.connection import make_engine
from queries.history import load
from tests.conftest import run_and_flush
from tests.history_support import collect_while, hold_row_lock, new_store, rows

pytestmark = pytest.mark.all_versions  # the collector reads version-dependent views: every supported version


@pytest.fixture
def store(pg_admin_url) -> str:
    return new_store(pg_admin_url)


def queryid_of(url: str, text: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT queryid FROM pg_stat_statements WHERE query = %s AND dbid = "
                            "(SELECT oid FROM pg_database WHERE datname = current_database())", (text,)).fetchone()[0]


def test_a_session_sleeping_5_s_is_one_active_session_with_its_statement(store, fresh_db):
    def sleep() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(5)")

    started = datetime.now(UTC)
    collect_while(store, fresh_db, sleep)
    queryid = queryid_of(fresh_db, "SELECT pg_sleep($1)")
    sampled = rows(store, """SELECT state, wait_event_type, wait_event, backend_type, sum(samples)::int
                             FROM pgpulse.activity_load WHERE query_id = %s GROUP BY 1, 2, 3, 4""", queryid)
    (state, wait_type, wait, backend, samples), = sampled
    assert (state, wait_type, wait, backend) == ("active", "Timeout", "PgSleep", "client backend")
    assert 9 <= samples <= 11  # 5 s at 2 samples a second
    engine = make_engine(store)
    try:
        end = datetime.now(UTC) + timedelta(seconds=10)
        frame = load.database_load(engine, "app", started - timedelta(minutes=1), end, by="statement")
        mine = frame[frame["dimension"] == str(queryid)]
        assert set(mine["label"]) == {"SELECT pg_sleep($1)"}
        assert mine["average_active_sessions"].max() <= 1.0
        samples_frame = rows(store, "SELECT sampled_at, samples, every_s FROM pgpulse.activity_bucket ORDER BY 1")
        covered = {at: count * every for at, count, every in samples_frame}
        session_seconds = sum(row.average_active_sessions * covered[row.bucket_start.to_pydatetime()]
                              for row in mine.itertuples())
        assert session_seconds == pytest.approx(5.0, abs=0.6)  # one session for those 5 s
        by_wait = load.database_load(engine, "app", started - timedelta(minutes=1), end)
        assert "Timeout" in set(by_wait["dimension"])
        reference = load.load_reference(engine, "app", started - timedelta(minutes=1), end)
        assert reference.query_id_computed is True
        assert reference.max_connections == int(rows(fresh_db, "SHOW max_connections")[0][0])
    finally:
        engine.dispose()


def test_the_load_splits_by_the_route_tag_of_each_statement(store, fresh_db):
    """Two routes' statements (sqlcommenter comments, as OpenTelemetry's SQLAlchemy instrumentation writes them):
    the load by route names each route with its own statement's sessions."""
    def feed() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(3) /*controller='feed',route='%2Ffeed'*/")

    def search() -> None:
        with psycopg.connect(fresh_db, autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(1.5), 'search' AS page /*route='%2Fsearch'*/")

    def both() -> None:
        threads = [threading.Thread(target=feed), threading.Thread(target=search)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()

    started = datetime.now(UTC)
    collect_while(store, fresh_db, both)
    engine = make_engine(store)
    try:
        frame = load.database_load(engine, "app", started - timedelta(minutes=1), datetime.now(UTC) + timedelta(seconds=10),
                                   by="route")
        samples_frame = rows(store, "SELECT sampled_at, samples, every_s FROM pgpulse.activity_bucket ORDER BY 1")
        covered = {at: count * every for at, count, every in samples_frame}
        seconds = {route: sum(row.average_active_sessions * covered[row.bucket_start.to_pydatetime()]
                              for row in frame[frame["label"] == route].itertuples())
                   for route in ("/feed", "/search")}
        assert seconds["/feed"] == pytest.approx(3.0, abs=0.6) and seconds["/search"] == pytest.approx(1.5, abs=0.6)
    finally:
        engine.dispose()


def test_a_row_lock_wait_is_kept_as_that_moment_s_blocking_tree(store, fresh_db):
    run_and_flush(fresh_db, "CREATE TABLE hot (id int PRIMARY KEY, n int)", "INSERT INTO hot VALUES (1, 0)")
    pids: dict[str, int] = {}
    started = datetime.now(UTC)
    collect_while(store, fresh_db, lambda: hold_row_lock(fresh_db, pids))
    waits = rows(store, """SELECT DISTINCT pid, blocking_pid, lock_mode, locktype, query FROM pgpulse.lock_wait_sample
                           WHERE depth = 1""")
    assert waits == [(pids["waiter"], pids["blocker"], "ShareLock", "transactionid",
                      "UPDATE hot SET n = n + 10 WHERE id = 1")]
    roots = rows(store, "SELECT DISTINCT pid, lock_mode, state FROM pgpulse.lock_wait_sample WHERE depth = 0")
    assert roots == [(pids["blocker"], "ExclusiveLock", "idle in transaction")]
    (samples,) = rows(store, "SELECT count(DISTINCT sampled_at) FROM pgpulse.lock_wait_sample")[0]
    assert 5 <= samples <= 7  # 3 s at 2 samples a second
    engine = make_engine(store)
    try:
        frame = load.lock_waits(engine, "app", started, datetime.now(UTC))
        assert set(zip(frame["waiting_pid"], frame["blocking_pid"], frame["lock_mode"], strict=True)) == {
            (pids["waiter"], pids["blocker"], "ShareLock")}
        assert frame["wait_seconds"].is_monotonic_increasing and frame["wait_seconds"].max() < 3.5
        moment = frame["sampled_at"].iloc[len(frame) // 2].to_pydatetime()
        tree = load.blocking_tree_at(engine, "app", moment + timedelta(seconds=0.2))
        assert tree["pid"].tolist() == [pids["blocker"], pids["waiter"]]
        assert tree["depth"].tolist() == [0, 1]
        assert tree["path"].tolist() == [str(pids["blocker"]), f"{pids['blocker']} > {pids['waiter']}"]
        assert load.blocking_tree_at(engine, "app", moment + timedelta(minutes=5)).empty
    finally:
        engine.dispose()


@pytest.fixture
def lock_history(app_env, pg_admin_url, monkeypatch):
    """A store in which the collector sampled a row lock wait of the app_env database ("default"), now over;
    the dashboard pointed at it. Returns (store, pids)."""
    import streamlit as st

    store = new_store(pg_admin_url)
    run_and_flush(app_env, "CREATE TABLE hot (id int PRIMARY KEY, n int)", "INSERT INTO hot VALUES (1, 0)")
    pids: dict[str, int] = {}
    collect_while(store, app_env, lambda: hold_row_lock(app_env, pids), name="default")
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    return store, pids


def shown(element):
    value = element.value
    return getattr(value, "data", value)


def test_the_activity_page_shows_the_tree_of_a_past_moment(lock_history):
    from streamlit.testing.v1 import AppTest

    from tests.test_history_ui import ROOT

    store, pids = lock_history
    (moment,) = rows(store, """SELECT sampled_at FROM pgpulse.lock_wait_sample WHERE depth = 1
                               ORDER BY sampled_at OFFSET 2 LIMIT 1""")[0]
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/activity.py").run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert "Database load" in [header.value for header in app.subheader]
    assert any(chart.proto.id for chart in app.get("plotly_chart"))
    picker = app.selectbox(key="a_lock_pick")
    assert len(picker.options) >= 5  # one per sample of the 3 s wait
    picker.set_value(moment.isoformat()).run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert app.text_input(key="a_moment").value == f"{moment:%Y-%m-%d %H:%M:%S}"
    trees = [shown(frame) for frame in app.dataframe if "session" in shown(frame).columns]
    # the live tree is empty (the lock is gone): the one tree shown is the stored one
    (tree,) = trees
    assert tree["pid"].tolist() == [pids["blocker"], pids["waiter"]]
    assert tree["blocking_pid"].tolist()[1] == pids["blocker"]
    assert tree["lock_mode"].tolist() == ["ExclusiveLock", "ShareLock"]
    assert tree["query"].tolist()[1] == "UPDATE hot SET n = n + 10 WHERE id = 1"
    assert any("Blocking tree as it was at" in block.value for block in app.markdown)
    app.text_input(key="a_moment").set_value("yesterday").run()
    assert any("must read like 2026-01-31 14:05:00" in error.value for error in app.error)


def figures(app) -> dict[str, dict]:
    """The page's Plotly figures by title."""
    specs = [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]
    return {spec["layout"]["title"]["text"]: spec for spec in specs}


def values(encoded) -> list[float]:
    """A trace's numbers: Plotly writes arrays as base64 typed arrays in the figure's JSON."""
    if isinstance(encoded, dict):
        return [float(value) for value in np.frombuffer(base64.b64decode(encoded["bdata"]), dtype=encoded["dtype"])]
    return [float(value) for value in encoded]


def test_the_statement_page_and_the_overview_chart_a_sampled_statement_s_load(app_env, pg_admin_url, monkeypatch):
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from tests.test_history_ui import ROOT

    store = new_store(pg_admin_url)

    def sleep() -> None:
        with psycopg.connect(app_env, autocommit=True) as conn:
            conn.execute("SELECT pg_sleep(3)")

    collect_while(store, app_env, sleep, after_s=2, name="default")  # statements every 1 s: its delta is stored
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/statement.py")
    app.query_params["queryid"] = str(queryid_of(app_env, "SELECT pg_sleep($1)"))
    app.run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert len(app.get("plotly_chart")) == 7  # its load, then the six series
    [load_figure] = [spec for title, spec in figures(app).items() if title.startswith("Its load")]
    assert load_figure["layout"]["title"]["text"] == "Its load: average active sessions per 10 s, by wait event type"
    assert [trace["name"] for trace in load_figure["data"]] == ["Timeout"]  # its sessions only: in pg_sleep
    assert 0 < max(values(load_figure["data"][0]["y"])) <= 1
    overview = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not overview.exception, [str(exc.value) for exc in overview.exception]
    small = figures(overview)["Active sessions · top wait: Timeout"]
    assert [trace["name"] for trace in small["data"]][0] == "Timeout"
