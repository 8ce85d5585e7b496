"""History as the user meets it: the report CLI over a range, and the pages that read the store (AppTest), on a
store filled by the real collector from a real workload."""
from __future__ import annotations

import subprocess
import sys

import pandas as pd
import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.cli import RANGE_REPORTS
from tests.conftest import flush_statistics, run_and_flush
from tests.history_support import collect_once, new_store

ROOT = __import__("pathlib").Path(__file__).resolve().parents[1]
PROBE = "SELECT count(*) FROM history_probe WHERE id < $1"


@pytest.fixture
def history(app_env, pg_admin_url, monkeypatch):
    """A store with two collections of the app_env database ("default", as DATABASE_URL names it) and exactly 7 calls
    of PROBE between them; the dashboard pointed at it."""
    store = new_store(pg_admin_url)
    run_and_flush(app_env, "CREATE TABLE history_probe AS SELECT g AS id FROM generate_series(1, 100) g")
    assert collect_once(store, ("default", app_env))
    with psycopg.connect(app_env, autocommit=True) as conn:
        for limit in range(7):
            conn.execute("SELECT count(*) FROM history_probe WHERE id < %s", (limit,))
        flush_statistics(conn)
    assert collect_once(store, ("default", app_env))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    return store


def queryid_of(url: str, query: str) -> int:
    with psycopg.connect(url) as conn:
        # queryids depend on the tables' OIDs: the same text in another test's database has another one
        return int(conn.execute("SELECT queryid FROM pg_stat_statements WHERE query = %s AND dbid = "
                                "(SELECT oid FROM pg_database WHERE datname = current_database())", (query,)).fetchone()[0])


def run_cli(*args: str, env: dict | None = None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=ROOT, capture_output=True, text=True,
                          timeout=120, env=env)


def test_report_since_writes_the_range_from_the_store(history, app_env, tmp_path):
    result = run_cli("report", "--out", str(tmp_path), "--since", "1h", "--history-url", history,
                     "--database-url", app_env)
    assert result.returncode == 0, result.stderr
    assert sorted(path.name for path in tmp_path.glob("*.csv")) == sorted(f"{name}.csv" for name in RANGE_REPORTS)
    statements = pd.read_csv(tmp_path / "statements.csv")
    probe = statements[statements["query"] == PROBE]
    assert probe["calls"].tolist() == [7]  # the delta of the range, not since the reset
    counters = pd.read_csv(tmp_path / "database_counters.csv")
    assert len(counters) >= 1 and counters["transactions_per_s"].notna().all()


def test_report_range_refuses_bad_input_in_plain_words(history, app_env, tmp_path):
    cases = [(("--since", "soon"), "write a number and a unit"),
             (("--from", "yesterday"), "is not an ISO time"),
             (("--from", "2026-12-01T10:00", "--to", "2026-12-01T09:00"), "is not after --from"),
             (("--since", "1h", "--only", "unused_indexes"), "only " + ", ".join(RANGE_REPORTS) + " can be written"),
             (("--since", "1h", "--history-url", "postgresql://u:s3cret@127.0.0.1:1/h"), "history store: database unreachable")]
    for flags, words in cases:
        result = run_cli("report", "--out", str(tmp_path), "--database-url", app_env, *flags)
        assert result.returncode == 2 and words in result.stderr, (flags, result.stderr)
        assert "s3cret" not in result.stderr and "Traceback" not in result.stderr


def test_the_statement_page_shows_its_figures_over_the_range(history, app_env):
    queryid = queryid_of(app_env, PROBE)
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/statement.py")
    app.query_params["queryid"] = str(queryid)
    app.run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert [block.value for block in app.code] == [PROBE]
    assert len(app.get("plotly_chart")) == 6
    assert not app.error


def test_without_a_store_the_statement_page_says_how_to_start_history(app_env, monkeypatch):
    monkeypatch.delenv("PGPULSE_HISTORY_URL", raising=False)
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/statement.py")
    app.query_params["queryid"] = "12345"
    app.run()
    assert not app.exception and not app.error
    assert any("History is not being kept yet" in info.value for info in app.info)


def test_queries_over_the_range_show_the_delta_and_link_its_history(history, app_env):
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/queries.py").run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert app.radio(key="q_figures").value == "Over the time range"
    frame = app.dataframe[0].value
    frame = getattr(frame, "data", frame)  # a Styler shows the formatted numbers
    probe = frame[frame["query"] == PROBE]
    assert probe["calls"].tolist() == [7]  # what ran in the range, from the collector's deltas
    assert probe["history"].iloc[0] == f"statement?queryid={queryid_of(app_env, PROBE)}"
    app.radio(key="q_figures").set_value("Since the last statistics reset").run()
    frame = app.dataframe[0].value
    frame = getattr(frame, "data", frame)
    assert frame[frame["query"] == PROBE]["calls"].tolist() == [7]


def test_the_overview_charts_the_range_and_says_how_to_start_history_without_it(history, app_env, monkeypatch):
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not app.exception and not app.error, [e.value for e in app.error]
    assert "Over the last 1 h" in [header.value for header in app.subheader]
    monkeypatch.delenv("PGPULSE_HISTORY_URL")
    st.cache_data.clear()
    st.cache_resource.clear()
    bare = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not bare.exception
    assert any("History is not being kept yet" in caption.value for caption in bare.caption)
    assert "Over the last 1 h" not in [header.value for header in bare.subheader]


def test_after_the_first_collection_queries_over_the_range_say_when_statements_appear(app_env, pg_admin_url,
                                                                                    monkeypatch):
    store = new_store(pg_admin_url)
    assert collect_once(store, ("default", app_env))  # one snapshot: no delta yet
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page("views/queries.py").run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert not app.dataframe
    [note] = [info.value for info in app.info if "collector" in info.value]
    assert "one every 1 min" in note and "since the statistics reset shows them now" in note
