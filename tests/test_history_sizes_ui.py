"""The Space page's growth over the range and the Indexes page's indexes not scanned over the range (AppTest), on a
store filled by the real collector: a table grown between two collections, one index scanned, one never."""
from __future__ import annotations

from pathlib import Path

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from tests.conftest import flush_statistics, run_and_flush
from tests.history_support import collect_once, new_store

ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture
def sized(app_env, pg_admin_url, monkeypatch):
    """Two collections of app_env; between them sizes_probe grows by 40 rows of ~2 kB and its index on id is
    scanned 3 times, its index on n never."""
    store = new_store(pg_admin_url)
    run_and_flush(app_env, "CREATE TABLE sizes_probe (id int, n int, pad text)",
                  "ALTER TABLE sizes_probe ALTER pad SET STORAGE PLAIN", "CREATE INDEX sizes_probe_id ON sizes_probe (id)",
                  "CREATE INDEX sizes_probe_n ON sizes_probe (n)")
    assert collect_once(store, ("default", app_env))
    with psycopg.connect(app_env, autocommit=True) as conn:
        conn.execute("INSERT INTO sizes_probe SELECT g, g, repeat('x', 2000) FROM generate_series(1, 40) g")
        conn.execute("SET enable_seqscan = off")
        conn.execute("SET enable_bitmapscan = off")
        for value in range(3):
            conn.execute("SELECT pad FROM sizes_probe WHERE id = %s", (value,))
        flush_statistics(conn)
    assert collect_once(store, ("default", app_env))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    return store


def _frames(app: AppTest) -> list:
    return [getattr(frame.value, "data", frame.value) for frame in app.dataframe]  # a Styler shows formatted numbers


def _page(path: str) -> AppTest:
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60)
    app.switch_page(path).run()
    assert not app.exception, [str(exc.value) for exc in app.exception]
    assert not app.error, [error.value for error in app.error]
    return app


def test_the_space_page_shows_the_biggest_growers_over_the_range(sized):
    app = _page("views/space.py")
    assert "Growth over the last 1 h" in [header.value for header in app.subheader]
    [growth] = [frame for frame in _frames(app) if "growth_bytes" in frame.columns]
    assert growth["relation_name"].iloc[0] == "sizes_probe"  # the biggest grower first
    assert growth["growth_bytes"].iloc[0] >= 10 * 8192


def test_the_indexes_page_lists_the_index_not_scanned_over_the_range(sized):
    app = _page("views/indexes.py")
    assert "Not scanned over the last 1 h" in [header.value for header in app.subheader]
    # the since-reset list says why (reason); the list over the range needs no reason: not one scan in the range
    [unused] = [frame for frame in _frames(app) if "fix_sql" in frame.columns and "reason" not in frame.columns]
    assert "sizes_probe_n" in unused["index_name"].tolist()
    assert "sizes_probe_id" not in unused["index_name"].tolist()


def test_without_two_size_collections_the_space_page_says_how_growth_comes(app_env, pg_admin_url, monkeypatch):
    store = new_store(pg_admin_url)
    assert collect_once(store, ("default", app_env))  # one size collection: no growth yet
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = _page("views/space.py")
    assert any("Growth needs two size collections" in info.value for info in app.info)
