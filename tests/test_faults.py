"""Faults caused for real while the dashboard is open: PostgreSQL stops and comes back, Redis goes
away, a migration holds ACCESS EXCLUSIVE, statement_timeout fires, the role lacks privileges,
and many viewers at once. Every page must keep rendering and say what is wrong, per panel."""
from __future__ import annotations

import threading
import time
import uuid

import pandas as pd
import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from demo.postgres import Cluster, embedded_bin_dir
from demo.redis_server import RedisServer
from tests.conftest import create_database, with_database
from tests.test_app import APP, PAGES

PG_PAGES = [page for page in PAGES if page != "views/explain.py"]  # Explain queries only on demand
PG_SETTINGS = ("DATABASE_URL", "REDIS_URL", "PGPULSE_TARGETS", "PGPULSE_REFRESH_SECONDS", "PGPULSE_POOL_SIZE",
               "PGPULSE_ALLOW_ACTIONS", "PGPULSE_PASSWORD", "PGPULSE_STATEMENT_TIMEOUT_MS", "PGPULSE_LOCK_TIMEOUT_MS",
               "PGPULSE_ALLOW_ANALYZE_WRITES")


# ---------------------------------------------------------------------------------------------
# helpers shared with test_security.py


def clear_streamlit_caches() -> None:
    st.cache_data.clear()
    st.cache_resource.clear()


def configure(monkeypatch, tmp_path, database_url: str, redis_url: str | None = None, **settings) -> None:
    """Point the dashboard at database_url (and redis_url) with these PGPULSE_* settings, nothing else."""
    for key in PG_SETTINGS:
        monkeypatch.delenv(key, raising=False)
    monkeypatch.setenv("DATABASE_URL", database_url)
    if redis_url:
        monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "no-secrets.toml"))
    for key, value in settings.items():
        monkeypatch.setenv(key, str(value))
    clear_streamlit_caches()


@pytest.fixture
def fresh_caches():
    """Streamlit's caches are process-wide: every scenario starts and ends with them empty."""
    clear_streamlit_caches()
    yield
    clear_streamlit_caches()


def open_page(page: str) -> AppTest:
    """A viewer's session on one page; 60 s proves a page does not hang (each waits at most its timeouts)."""
    app = AppTest.from_file(APP, default_timeout=60).run()
    if page != "views/overview.py":
        app.switch_page(page).run()
    return app


def errors(app: AppTest) -> list[str]:
    return [str(error.value) for error in app.error]


def page_links(app: AppTest) -> list[str]:
    return [str(link.proto.label) for link in app.get("page_link")]


def frames(app: AppTest) -> list[pd.DataFrame]:
    return [element.value for element in app.dataframe]


def subheaders(app: AppTest) -> list[str]:
    return [str(element.value) for element in app.subheader]


def panel_error(app: AppTest, title: str) -> str:
    """The error a panel shows (panels say '<title> is unavailable: <reason>')."""
    found = [text for text in errors(app) if text.startswith(f"{title} is unavailable: ")]
    assert len(found) == 1, (title, errors(app))
    return found[0]


def assert_renders_cleanly(app: AppTest, page: str) -> None:
    assert not app.exception, (page, [str(exc.value) for exc in app.exception])
    assert not errors(app), (page, errors(app))


def seed_statements(url: str) -> None:
    """A table and a known statement, so every page has rows to show."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE fault_probe (id serial PRIMARY KEY, label text)")
        conn.execute("INSERT INTO fault_probe (label) SELECT 'row ' || g FROM generate_series(1, 200) g")
        for limit in range(3):
            conn.execute("SELECT count(*) FROM fault_probe WHERE id < %s", (limit,))


# ---------------------------------------------------------------------------------------------
# fixtures: a PostgreSQL 18 cluster of this module's own (it gets stopped), a database on it


@pytest.fixture(scope="module")
def cluster(tmp_path_factory) -> Cluster:
    bin_dir = embedded_bin_dir()
    if not (bin_dir / "postgres").exists():
        pytest.skip(f"PostgreSQL 18 binaries not found in {bin_dir}")
    own = Cluster(bin_dir, tmp_path_factory.mktemp("faults_pg") / "data").start()
    yield own
    own.stop(mode="immediate")


@pytest.fixture
def database(cluster) -> str:
    """A new database with pg_stat_statements and a probe table on the module's cluster."""
    cluster.start()  # a no-op unless a test left it stopped
    name = f"f_{uuid.uuid4().hex[:10]}"
    url = create_database(cluster.url("postgres"), name)
    seed_statements(url)
    yield url
    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


# ---------------------------------------------------------------------------------------------
# PostgreSQL stops while the dashboard is open, then comes back


def explain_select_one(app: AppTest) -> AppTest:
    app.text_area(key="explain_sql").input("SELECT 1").run()
    return app.button(key="e_run").click().run()


def test_postgres_stopping_is_reported_per_panel_and_recovered_from(cluster, database, redis_url, monkeypatch,
                                                                    tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, redis_url, PGPULSE_REFRESH_SECONDS=1)
    apps = {page: open_page(page) for page in PAGES}
    for page, app in apps.items():
        assert_renders_cleanly(app, page)
    assert_renders_cleanly(explain_select_one(apps["views/explain.py"]), "explain")

    cluster.stop()
    try:
        # Sizes and settings are cached for a minute by design; start this look from an empty cache.
        st.cache_data.clear()
        for page, app in apps.items():
            app.run()
            assert not app.exception, (page, [str(exc.value) for exc in app.exception])
            shown = errors(app)
            if page in PG_PAGES:
                assert shown, page
            assert all("database unreachable (OperationalError)" in text for text in shown), (page, shown)
            assert "Traceback" not in "\n".join(shown)
        overview_links = page_links(apps["views/overview.py"])
        pg_links = [label for label in overview_links if not label.startswith("Redis")]
        assert len(pg_links) == 10 and all("database unreachable (OperationalError)" in label for label in pg_links)
        explained = explain_select_one(apps["views/explain.py"])
        assert [text for text in errors(explained) if "database unreachable (OperationalError)" in text], \
            errors(explained)
    finally:
        cluster.start()

    # No cache is cleared now: the open pages must recover by themselves within one refresh interval
    # (results are cached per 1 s bucket, errors never are; pool_pre_ping replaces the dead connections).
    time.sleep(1.1)
    for page, app in apps.items():
        app.run()
        assert_renders_cleanly(app, page)
    assert not any("unreachable" in label for label in page_links(apps["views/overview.py"]))
    assert_renders_cleanly(explain_select_one(apps["views/explain.py"]), "explain after restart")


# ---------------------------------------------------------------------------------------------
# Redis goes away


def test_redis_going_away_leaves_postgres_panels_working(database, monkeypatch, tmp_path, fresh_caches):
    server = RedisServer(tmp_path / "redis").start()
    try:
        configure(monkeypatch, tmp_path, database, server.url, PGPULSE_REFRESH_SECONDS=1)
        cache = open_page("views/cache.py")
        assert_renders_cleanly(cache, "cache")
        metrics = {metric.label: metric.value for metric in cache.metric}
        assert metrics["Redis"].count(".") == 2 and metrics["Clients (blocked)"].endswith("(0)")
        overview = open_page("views/overview.py")
        assert_renders_cleanly(overview, "overview")
        assert [label.split(":")[0] for label in page_links(overview)][-2:] == ["Redis hit ratio", "Redis memory"]
    finally:
        server.stop()

    st.cache_data.clear()  # the sampled namespaces are cached 30 s by design: look at a fresh interval
    cache.run()
    assert not cache.exception
    for title in ("Server", "Keyspace", "Key namespaces (sampled with SCAN)", "Commands", "Slow log"):
        assert "Redis is unreachable" in panel_error(cache, title)
    assert len(errors(cache)) == 5, errors(cache)  # nothing else failed
    assert {"Database", "Tables reading most from disk", "Indexes reading most from disk"} <= set(subheaders(cache))
    assert len(frames(cache)) == 2  # the PostgreSQL tables still render
    assert "fault_probe" in set(frames(cache)[0]["table_name"])

    overview.run()
    assert not overview.exception and not errors(overview), errors(overview)
    health = next(frame for frame in frames(overview) if "check" in frame.columns)
    statuses = dict(zip(health["check"], health["status"], strict=True))
    assert statuses.pop("Redis hit ratio") == "error" and statuses.pop("Redis memory") == "error"
    assert len(statuses) == 10 and set(statuses.values()) <= {"pass", "warn"}, statuses
    details = dict(zip(health["check"], health["detail"], strict=True))
    assert details["Redis memory"].startswith("Redis is unreachable")


# ---------------------------------------------------------------------------------------------
# A migration holds ACCESS EXCLUSIVE on a table


@pytest.fixture
def migration(database):
    """A session inside BEGIN; LOCK TABLE migrating IN ACCESS EXCLUSIVE MODE, kept open during the test."""
    with psycopg.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE migrating (id serial PRIMARY KEY, email text)")
        setup.execute("CREATE INDEX migrating_email_idx ON migrating (email)")
        setup.execute("INSERT INTO migrating (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 500) g")
        setup.execute("ANALYZE migrating")
    conn = psycopg.connect(database)
    conn.execute("LOCK TABLE migrating IN ACCESS EXCLUSIVE MODE")
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


def test_a_migration_lock_ends_in_a_message_not_a_hang(database, migration, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_LOCK_TIMEOUT_MS=300)
    space = open_page("views/space.py")
    assert not space.exception
    warnings = [str(warning.value) for warning in space.warning]
    assert len(warnings) == 1 and warnings[0].startswith("Exact sizes are waiting on a lock (a lock could not be "
                                                          "taken within lock_timeout"), warnings
    tables = frames(space)[1]
    assert {"migrating", "fault_probe"} <= set(tables["table_name"])  # estimates, the locked table too
    ...


# ---------------------------------------------------------------------------------------------
# statement_timeout


def test_statement_timeout_is_named_per_panel(database, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_STATEMENT_TIMEOUT_MS=1)
    ...


# ---------------------------------------------------------------------------------------------
# the monitoring role has LOGIN only


def test_a_role_without_privileges_is_told_which_grant_is_missing(cluster, database, monkeypatch, tmp_path,
                                                                  fresh_caches):
    ...


# ---------------------------------------------------------------------------------------------
# many viewers at once


def test_a_connection_storm_stays_within_the_pool(database):
    ...
