"""Faults caused for real while the dashboard is open: PostgreSQL stops and comes back, Redis goes
away, a migration holds ACCESS EXCLUSIVE, statement_timeout fires, the role lacks privileges,
and many viewers at once. Every page must keep rendering and say what is wrong, per panel."""
from __future__ import annotations

import re
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
from queries.catalogue import health_checks_declared
from tests.conftest import create_database, with_database
from tests.test_app import APP, PAGES, SERVER_PAGES

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
    """The links' words without their markup (the Overview colours a check that is not passing: ':orange[**...**]'),
    a health check's detail in full (its label cuts a long one; the help, before "Open the ... page", holds it all)."""
    words = []
    for link in app.get("page_link"):
        label = re.sub(r"^:\w+\[(.*)\]$", r"\1", str(link.proto.label)).replace("**", "")
        detail, _, opens = str(link.proto.help).rpartition("\n\n")
        words.append(f"{label.split(': ', 1)[0]}: {detail}" if opens.startswith("Open the ") and detail else label)
    return words


def frames(app: AppTest) -> list[pd.DataFrame]:
    return [element.value for element in app.dataframe]


def find_frame(app: AppTest, *columns: str) -> pd.DataFrame:
    """The one table on the page that has all these columns (pages may reorder their panels)."""
    found = [frame for frame in frames(app) if set(columns) <= set(frame.columns)]
    assert len(found) == 1, (columns, [list(frame.columns) for frame in frames(app)])
    return found[0]


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
    app.text_area(key="explain_sql").input("SELECT 1")  # in a form: sent with the click
    return app.button(key="e_run").click().run()


def test_postgres_stopping_is_one_banner_per_page_and_recovered_from(cluster, database, redis_url, monkeypatch,
                                                                     tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, redis_url, PGPULSE_REFRESH_SECONDS=1)
    apps = {page: open_page(page) for page in SERVER_PAGES}
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
            # one banner, said once, and no panel under it (Explain's form and last plan included)
            assert len(shown) == 1 and shown[0].count("the server cannot be reached") == 1, (page, shown)
            assert "Is PostgreSQL running" in shown[0] and "OperationalError" not in shown[0], shown
            assert not app.dataframe and not app.metric and not page_links(app) and not app.text_area, page
            assert "Traceback" not in "\n".join(shown)
    finally:
        cluster.start()

    # No cache is cleared now: the open pages must recover by themselves within one refresh interval
    # (results are cached per 1 s bucket, errors never are; pool_pre_ping replaces the dead connections).
    time.sleep(1.1)
    for page, app in apps.items():
        app.run()
        assert_renders_cleanly(app, page)
    assert apps["views/explain.py"].text_area(key="explain_sql").value == "SELECT 1"  # the pasted statement is kept
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
        assert {"Redis hit ratio", "Redis memory"} <= {label.split(":")[0] for label in page_links(overview)}
    finally:
        server.stop()

    st.cache_data.clear()  # the sampled namespaces are cached 30 s by design: look at a fresh interval
    cache.run()
    assert not cache.exception
    assert len(errors(cache)) == 1 and errors(cache)[0].startswith("**Redis cannot be read: Redis is unreachable"), \
        errors(cache)  # one error for the Redis section, not one per panel; nothing else failed
    assert not {"Server", "Keyspace", "Commands", "Slow log"} & set(subheaders(cache))
    assert {"Database", "Tables reading most from disk", "Indexes reading most from disk"} <= set(subheaders(cache))
    assert len(frames(cache)) == 2  # the PostgreSQL tables still render
    assert "fault_probe" in set(find_frame(cache, "table_name", "heap_hit_ratio")["table_name"])

    overview.run()
    assert not overview.exception and not errors(overview), errors(overview)
    health = next(frame for frame in frames(overview) if "check" in frame.columns)
    statuses = dict(zip(health["check"], health["status"], strict=True))
    # the table says a status in words: error "could not run", warn "needs a look", pass "passes"
    assert statuses.pop("Redis hit ratio") == "could not run" and statuses.pop("Redis memory") == "could not run"
    assert len(statuses) == len(health_checks_declared("postgres")) and set(statuses.values()) <= {
        "passes", "needs a look"}, statuses
    details = dict(zip(health["check"], health["detail"], strict=True))
    assert details["Redis memory"].startswith("Redis is unreachable")


# ---------------------------------------------------------------------------------------------
# A migration holds ACCESS EXCLUSIVE locks


@pytest.fixture
def migrating_table(database) -> str:
    with psycopg.connect(database, autocommit=True) as setup:
        setup.execute("CREATE TABLE migrating (id serial PRIMARY KEY, email text)")
        setup.execute("CREATE INDEX migrating_email_idx ON migrating (email)")
        setup.execute("INSERT INTO migrating (email) SELECT 'u' || g || '@example.com' FROM generate_series(1, 500) g")
        setup.execute("ANALYZE migrating")
    return database


@pytest.fixture
def migration(migrating_table):
    """A migration's open transaction; the test issues its statements, the lock is released in finally."""
    conn = psycopg.connect(migrating_table)
    try:
        yield conn
    finally:
        conn.rollback()
        conn.close()


LOCK_MESSAGE = ("a lock could not be taken within lock_timeout (is a migration holding a lock?) — canceling statement "
                "due to lock timeout (SQLSTATE 55P03)")


def test_a_table_locked_by_a_migration_does_not_hang_space_or_indexes(migrating_table, migration, monkeypatch,
                                                                      tmp_path, fresh_caches):
    migration.execute("LOCK TABLE migrating IN ACCESS EXCLUSIVE MODE")  # BEGIN is implicit (not autocommit)
    configure(monkeypatch, tmp_path, migrating_table, PGPULSE_LOCK_TIMEOUT_MS=300)
    space = open_page("views/space.py")
    assert not space.exception and not errors(space), errors(space)
    assert [str(warning.value) for warning in space.warning] == [
        f"Exact sizes are waiting on a lock ({LOCK_MESSAGE}); showing estimates (relpages)."]
    databases, tables = find_frame(space, "database_name"), find_frame(space, "table_name", "total_bytes")
    assert migrating_table.rsplit("/", 1)[1] in set(databases["database_name"])
    assert {"migrating", "fault_probe"} <= set(tables["table_name"])  # the estimates list the locked table too
    index_sizes = find_frame(space, "index_name", "size_bytes")  # index files are not behind the table lock
    assert "migrating_email_idx" in set(index_sizes["index_name"])

    # nothing on the Indexes page needs the table itself: it renders whole
    indexes = open_page("views/indexes.py")
    assert_renders_cleanly(indexes, "indexes")
    assert "migrating_email_idx" in set(find_frame(indexes, "index_name", "fix_sql", "index_scans")["index_name"])


def test_an_index_dropped_in_an_open_migration_is_named_as_a_lock(migrating_table, migration, monkeypatch,
                                                                  tmp_path, fresh_caches):
    migration.execute("DROP INDEX migrating_email_idx")  # ACCESS EXCLUSIVE on the index and its table until commit
    configure(monkeypatch, tmp_path, migrating_table, PGPULSE_LOCK_TIMEOUT_MS=300)
    indexes = open_page("views/indexes.py")
    assert not indexes.exception
    assert errors(indexes) == [f"Unused indexes is unavailable: {LOCK_MESSAGE}"]
    assert {"Duplicate and redundant indexes", "Invalid indexes", "Index hit rate"} <= set(subheaders(indexes))
    assert "No invalid index (a failed CREATE INDEX CONCURRENTLY leaves one)." in [str(c.value) for c in indexes.caption]
    assert len(frames(indexes)) == 1  # the hit rates; the other panels say they found nothing

    space = open_page("views/space.py")
    assert not space.exception
    assert errors(space) == [f"Indexes is unavailable: {LOCK_MESSAGE}"]
    assert [str(warning.value) for warning in space.warning] == [
        f"Exact sizes are waiting on a lock ({LOCK_MESSAGE}); showing estimates (relpages)."]
    assert "migrating" in set(find_frame(space, "table_name", "total_bytes")["table_name"])

    overview = open_page("views/overview.py")
    assert_renders_cleanly(overview, "overview")
    unused_check = [label for label in page_links(overview) if label.startswith("Unused indexes: ")]
    assert unused_check in ([f"Unused indexes: {LOCK_MESSAGE}"], ["Unused indexes: 1 never-scanned indexes"])


# ---------------------------------------------------------------------------------------------
# statement_timeout


# PostgreSQL says "due to statement timeout", or "due to user request" when a 1 ms timer fires between
# statements (its interrupt handler then finds the timeout indicator already cleared); queries.errors
# words the latter as a cancel request, since that is all the server tells
TIMEOUT_MESSAGE = re.compile(r"the query was cancelled (by statement_timeout|on request) — canceling statement due to "
                             r"(statement timeout|user request) \(SQLSTATE 57014\)")
# panels whose query reads every one of 1,000 tables (files, statistics, sequences): tens of ms, never 1 ms
HEAVY_PANELS = {"views/space.py": ["Tables", "Indexes"],
                "views/maintenance.py": ["Vacuum and analyze", "Sequences close to their maximum",
                                         "Integer columns close to overflow"]}


def test_statement_timeout_is_named_per_panel(database, redis_url, monkeypatch, tmp_path, fresh_caches):
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN FOR i IN 1..1000 LOOP "
                     "EXECUTE format('CREATE TABLE wide_%s (id serial PRIMARY KEY, v int)', i); END LOOP; END $$")
    configure(monkeypatch, tmp_path, database, redis_url, PGPULSE_STATEMENT_TIMEOUT_MS=1)
    for page in PAGES:
        app = open_page(page)
        assert not app.exception, (page, [str(exc.value) for exc in app.exception])
        shown = errors(app)
        assert all(re.fullmatch(rf".* is unavailable: {TIMEOUT_MESSAGE.pattern}", text) for text in shown), (page, shown)
        for title in HEAVY_PANELS.get(page, []):
            assert TIMEOUT_MESSAGE.fullmatch(panel_error(app, title).removeprefix(f"{title} is unavailable: "))
        for label in page_links(app):  # health checks: a number, or the same plain words
            detail = label.split(": ", 1)[1]
            assert TIMEOUT_MESSAGE.fullmatch(detail) or "SQLSTATE" not in detail, label


# ---------------------------------------------------------------------------------------------
# the monitoring role has LOGIN only


@pytest.fixture
def login_only_url(database, cluster):
    """DATABASE_URL of a role with LOGIN and nothing else (not pg_monitor, not superuser)."""
    role = f"login_only_{uuid.uuid4().hex[:6]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    yield with_database(cluster.url("postgres", user=role), database.rsplit("/", 1)[1])
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute(f"SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = '{role}'")
        conn.execute(f"DROP ROLE IF EXISTS {role}")


def test_a_role_without_privileges_is_told_which_grant_is_missing(database, login_only_url, monkeypatch, tmp_path,
                                                                  fresh_caches):
    role = login_only_url.split("://", 1)[1].split("@", 1)[0]
    grant = f"GRANT pg_read_all_stats TO {role}; (or pg_monitor) to see all"
    sleeper = psycopg.connect(database, autocommit=True)  # the superuser's session, invisible to the role
    worker = threading.Thread(target=lambda: _swallow(sleeper, "SELECT pg_sleep(30)"), daemon=True)
    worker.start()
    try:
        with psycopg.connect(database) as watcher:  # the sleeper has run for over a second
            while not watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = 'active' AND "
                                      "query_start < clock_timestamp() - interval '1.5 s'",
                                      (sleeper.info.backend_pid,)).fetchone()[0]:
                time.sleep(0.1)
        configure(monkeypatch, tmp_path, login_only_url)
        for page in PAGES:
            app = open_page(page)
            assert not app.exception, (page, [str(exc.value) for exc in app.exception])
            shown = [text for text in errors(app) if "no Redis is configured" not in text]
            assert all("pg_monitor" in text for text in shown), (page, shown)
            infos = [str(info.value) for info in app.info]
            if page == "views/overview.py":
                assert infos == [f"role {role} sees the text of its own statements only; others show as "
                                 f"<insufficient privilege>. {grant}"]
            if page == "views/queries.py":
                assert len(infos) == 1 and infos[0].endswith(grant) and "statements are hidden" in infos[0]
            if page == "views/activity.py":
                # other roles' sessions have no state or query for this role: a long-running one can't be seen
                assert infos == [f"role {role} sees the state, query and waits of its own sessions only: other "
                                 f"roles' sessions are counted but never shown as running, waiting or blocking. "
                                 f"{grant}"]
                app.number_input(key="a_long_s").set_value(1).run()
                long_running = [frame for frame in frames(app)
                                if "query_seconds" in frame.columns and "backend_type" not in frame.columns]
                assert long_running == []  # the 1.5 s pg_sleep is not seen
                assert "No query has run longer than 1 s." in [str(caption.value) for caption in app.caption]
    finally:
        sleeper.cancel_safe()
        worker.join(10)
        sleeper.close()


def _swallow(conn: psycopg.Connection, sql: str) -> None:
    try:
        conn.execute(sql)
    except psycopg.Error:
        pass  # cancelled at teardown


# ---------------------------------------------------------------------------------------------
# many viewers at once


def test_a_connection_storm_stays_within_the_pool(database):
    from queries.cache import database_cache_hit
    from queries.connection import make_engine
    from queries.health import health_checks
    from queries.overview import server_summary
    from queries.statements import statements, statements_status

    engine = make_engine(database, pool_size=2, application_name="pgpulse-storm")
    viewers, barrier, failures = 8, threading.Barrier(8, timeout=30), []
    done = threading.Event()

    def viewer() -> None:
        try:
            barrier.wait()
            for _ in range(3):  # what one Overview render asks for
                server_summary(engine), statements_status(engine), database_cache_hit(engine)
                statements(engine, limit=5), health_checks(engine)
        except Exception as exc:  # noqa: BLE001 - reported by the assertion below
            failures.append(exc)

    samples: list[int] = []

    def sample() -> None:
        with psycopg.connect(database, autocommit=True) as conn:
            while not done.is_set():
                samples.append(conn.execute("SELECT count(*) FROM pg_stat_activity "
                                            "WHERE application_name = 'pgpulse-storm'").fetchone()[0])

    sampler = threading.Thread(target=sample)
    sampler.start()
    threads = [threading.Thread(target=viewer) for _ in range(viewers)]
    try:
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
    finally:
        done.set()
        sampler.join(30)
    assert not failures, failures
    assert samples and max(samples) <= 2, max(samples)
    with psycopg.connect(database) as conn:  # the pool keeps its two connections, and no more
        assert conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgpulse-storm'"
                            ).fetchone()[0] == 2
    engine.dispose()


def test_health_checks_warn_when_the_role_cannot_see_other_sessions(database, login_only_url):
    from queries.connection import make_engine
    from queries.health import health_checks

    role = login_only_url.split("://", 1)[1].split("@", 1)[0]
    checks = health_checks(make_engine(login_only_url), groups=("live",)).set_index("check")
    for name in ("Long-running queries", "Idle in transaction"):
        assert checks.loc[name, "status"] == "warn"
        assert f"GRANT pg_monitor TO {role}" in checks.loc[name, "detail"]
    superuser = health_checks(make_engine(database), groups=("live",)).set_index("check")
    assert superuser.loc["Long-running queries", "status"] == "pass"
