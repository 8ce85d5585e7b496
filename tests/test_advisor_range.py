"""The advisors over a time range: with history, suggested_indexes and n_plus_one judge the statements that ran in the
range (the collector's deltas, queries.history.reads.statements_over_range) instead of everything since the reset."""
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import streamlit as st

from queries.advisors.indexes import suggested_indexes
from queries.advisors.n_plus_one import n_plus_one
from queries.connection import make_engine
from queries.history.reads import statements_over_range
from queries.statements import EVERY_ROW
from tests.history_support import collect_once, new_store
from tests.test_advisor_indexes import PARTIAL, SETUP
from tests.test_n_plus_one import ROUNDS, _feed, blog  # noqa: F401 - blog is a fixture

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


def _over_range(store: str, target: str, start: datetime):
    store_engine = make_engine(store)
    try:
        return statements_over_range(store_engine, target, start, datetime.now(UTC) + timedelta(minutes=1),
                                     limit=EVERY_ROW)
    finally:
        store_engine.dispose()


def test_suggested_indexes_over_a_range_advise_on_what_ran_in_it(fresh_db, engine, pg_admin_url):
    store, start = new_store(pg_admin_url), datetime.now(UTC) - timedelta(minutes=1)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for statement in SETUP:
            conn.execute(statement)
        conn.execute("SELECT pg_stat_statements_reset()")
        for n in range(20):  # before the range: the customer lookups
            conn.execute("SELECT id, note FROM orders WHERE customer_id = %s", (n,))
        assert collect_once(store, ("app", fresh_db))  # the base
        for n in range(20):  # in the range: the events of an account
            conn.execute("SELECT id, kind FROM events WHERE account_id = %s AND created_at >= %s AND deleted_at IS NULL",
                         (n, "2026-02-01"))
    assert collect_once(store, ("app", fresh_db))
    since_reset = set(suggested_indexes(engine)["create_index"])
    assert since_reset == {"CREATE INDEX ON orders (customer_id)", PARTIAL}
    over_range = suggested_indexes(engine, statements_frame=_over_range(store, "app", start))
    assert list(over_range["create_index"]) == [PARTIAL] and over_range.loc[0, "statements"] == 1


def test_n_plus_one_over_a_range_counts_the_calls_made_in_it(blog, fresh_db, engine, pg_admin_url):  # noqa: F811
    store, start = new_store(pg_admin_url), datetime.now(UTC) - timedelta(minutes=1)
    for _ in range(ROUNDS):
        _feed(blog)
    assert collect_once(store, ("app", fresh_db))  # the base
    for _ in range(3):
        _feed(blog)  # 20 posts a page: 60 author lookups in the range
    assert collect_once(store, ("app", fresh_db))
    since_reset = n_plus_one(engine).set_index("child_table")
    over_range = n_plus_one(engine, statements_frame=_over_range(store, "app", start)).set_index("child_table")
    assert sorted(over_range.index) == sorted(since_reset.index) == ["comments", "users"]
    assert since_reset.loc["users", "calls"] == 20 * (ROUNDS + 3)
    assert over_range.loc["users", "calls"] == 60 and over_range.loc["users", "parent_calls"] == 3
    assert over_range.loc["users", "calls_per_parent_call"] == 20.0


def test_queries_page_judges_the_n_plus_one_loops_of_the_range(blog, app_env, pg_admin_url, monkeypatch):  # noqa: F811
    from tests.test_app import run_page

    store = new_store(pg_admin_url)
    assert collect_once(store, ("default", app_env))
    for _ in range(3):
        _feed(blog)
    assert collect_once(store, ("default", app_env))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = run_page("views/queries.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    suspects = next(frame.value for frame in app.dataframe if "hint" in frame.value.columns)
    assert sorted(zip(suspects["child_table"], suspects["calls"], strict=True)) == [("comments", 60), ("users", 60)]
    assert any(caption.value.startswith("From the calls made during the last 1 h") for caption in app.caption)


def test_indexes_page_suggests_for_the_statements_of_the_range(app_env, pg_admin_url, monkeypatch):
    from tests.test_app import run_page

    store = new_store(pg_admin_url)
    with psycopg.connect(app_env, autocommit=True) as conn:
        for statement in SETUP:
            conn.execute(statement)
        for n in range(20):  # before the range only
            conn.execute("SELECT id, note FROM orders WHERE customer_id = %s", (n,))
        assert collect_once(store, ("default", app_env))
        for n in range(20):
            conn.execute("SELECT id, kind FROM events WHERE account_id = %s AND created_at >= %s AND deleted_at IS NULL",
                         (n, "2026-02-01"))
    assert collect_once(store, ("default", app_env))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    st.cache_data.clear()
    st.cache_resource.clear()
    app = run_page("views/indexes.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    shown = next(frame.value for frame in app.dataframe if "create_index" in frame.value.columns)
    assert list(shown["create_index"]) == [PARTIAL]
