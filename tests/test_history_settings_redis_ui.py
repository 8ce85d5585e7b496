"""Setting changes and Redis history as the user meets them: the Settings page's timeline, the markers on the history
charts, the Cache page's charts over the range, and `report --since` writing them as CSV (AppTest, the real CLI), on
a store filled by the real collector."""
from __future__ import annotations

import json

import pandas as pd
import psycopg
import pytest
import redis
import streamlit as st
from streamlit.testing.v1 import AppTest

from demo.redis_server import RedisServer
from tests.history_support import collect_once, new_store
from tests.test_history_ui import ROOT, run_cli


def reload_with(admin_url: str, statement: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(statement)
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("SELECT pg_sleep(0.3)")


@pytest.fixture
def changed(app_env, pg_admin_url, monkeypatch, tmp_path):
    """Two collections of the app_env database and a Redis of its own, with work_mem changed to 8MB and 6 Redis hits
    and 2 misses between them; the dashboard pointed at the store and that Redis."""
    server = RedisServer(tmp_path / "redis").start()
    store = new_store(pg_admin_url)
    try:
        assert collect_once(store, ("default", app_env, server.url))
        reload_with(pg_admin_url, "ALTER SYSTEM SET work_mem = '8MB'")
        client = redis.Redis.from_url(server.url)
        client.set("known", "1")
        for key in ["known"] * 6 + ["missing:1", "missing:2"]:
            client.get(key)
        client.close()
        assert collect_once(store, ("default", app_env, server.url))
    finally:
        reload_with(pg_admin_url, "ALTER SYSTEM RESET work_mem")
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    monkeypatch.setenv("REDIS_URL", server.url)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield store, server.url
    server.stop()


def page(name: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    if name:
        app.switch_page(name).run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert not app.error, [error.value for error in app.error]
    return app


def frame_with(app: AppTest, column: str) -> pd.DataFrame:
    [frame] = [getattr(table.value, "data", table.value) for table in app.dataframe
               if column in getattr(table.value, "data", table.value).columns]
    return frame


def figures(app: AppTest) -> list[dict]:
    return [json.loads(chart.proto.spec) for chart in app.get("plotly_chart")]


def markers_of(figure: dict) -> list[str]:
    return [str(names) for trace in figure["data"] if trace.get("name") == "setting changed"
            for names in trace["customdata"]]


def test_the_settings_page_shows_the_change_with_its_old_and_new_value(changed):
    app = page("views/settings.py")
    timeline = frame_with(app, "old_value")
    assert timeline[["name", "old_value", "new_value", "pending_restart"]].values.tolist() == [
        ["work_mem", "4MB", "8MB", False]]


def test_every_history_chart_marks_the_change(changed):
    overview = figures(page(""))
    cache = figures(page("views/cache.py"))
    history = [figure for figure in overview + cache if markers_of(figure)]
    assert len(history) == 4 + 1 + 5  # the Overview's four, the buffer cache hit ratio, Redis's five
    assert all(markers_of(figure) == ["work_mem"] for figure in history)
    titles = [figure["layout"].get("title", {}).get("text") for figure in cache]
    assert {"Hit ratio", "Memory", "Evictions", "Commands per second", "Clients"} <= set(titles)


def test_report_since_writes_setting_changes_and_redis_history(changed, app_env, tmp_path):
    store, redis_url = changed
    out = tmp_path / "out"
    result = run_cli("report", "--out", str(out), "--since", "1h", "--history-url", store, "--database-url", app_env)
    assert result.returncode == 0, result.stderr
    assert {"setting_changes.csv", "redis_history.csv"} <= {path.name for path in out.glob("*.csv")}
    changes = pd.read_csv(out / "setting_changes.csv")
    assert changes[["name", "old_value", "new_value"]].values.tolist() == [["work_mem", "4MB", "8MB"]]
    redis_history = pd.read_csv(out / "redis_history.csv")
    assert (int(redis_history["keyspace_hits"].sum()), int(redis_history["keyspace_misses"].sum())) == (6, 2)


def test_without_a_store_cache_and_settings_say_how_to_start_history_once(app_env):
    for name in ("views/cache.py", "views/settings.py"):
        app = page(name)
        lines = [element.value for kind in ("caption", "info") for element in getattr(app, kind)
                 if "History is not being kept yet" in element.value]
        assert len(lines) == 1, (name, lines)


def test_range_only_reports_without_a_range_say_how_to_get_them(tmp_path):
    result = run_cli("report", "--out", str(tmp_path), "--only", "setting_changes", "redis_history",
                     "--database-url", "postgresql://nobody@127.0.0.1:1/none")
    assert result.returncode == 2 and "Traceback" not in result.stderr
    assert "redis_history, setting_changes come from the history store: add --since SPAN" in result.stderr
