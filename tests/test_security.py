"""Security against real servers: actions stay off unless enabled and confirmed, hostile identifiers
are quoted everywhere, passwords never reach a page, the CLI or a CSV, and the login hides everything."""
from __future__ import annotations

import subprocess
import sys
import threading
import time
import uuid
from pathlib import Path

import pandas as pd
import psycopg
import pytest
import streamlit as st
from sqlalchemy.engine import make_url
from streamlit.testing.v1 import AppTest

from dashboard.config import REPO_ROOT
from queries.actions import ActionDisabledError, cancel_backend
from queries.connection import make_engine
from tests import test_faults
from tests.test_app import APP, PAGES, SERVER_PAGES
from tests.test_faults import configure, errors, find_frame, frames, open_page, subheaders

# this module's own PostgreSQL 18 cluster (the secrets test stops it), a database on it, emptied caches
cluster, database, fresh_caches = test_faults.cluster, test_faults.database, test_faults.fresh_caches

ACTION_PANEL = "Cancel or terminate a backend"


def run_cli(*args: str) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PGPULSE_SECRETS": "/nonexistent.toml"}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def wait_until(condition, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, "condition not reached"
        time.sleep(0.05)


# ---------------------------------------------------------------------------------------------
# actions that change the server


class Sleeper:
    """A session running SELECT pg_sleep(30) in a thread; its error (QueryCanceled) is kept."""

    def __init__(self, url: str):
        self.conn = psycopg.connect(url, autocommit=True, application_name="pgpulse-sleeper")
        self.pid = self.conn.info.backend_pid
        self.error: Exception | None = None
        self.thread = threading.Thread(target=self._sleep, daemon=True)
        self.thread.start()
        with psycopg.connect(url) as watcher:
            wait_until(lambda: watcher.execute("SELECT count(*) FROM pg_stat_activity WHERE pid = %s AND state = "
                                               "'active' AND query LIKE 'SELECT pg_sleep%%'", (self.pid,)).fetchone()[0])

    def _sleep(self) -> None:
        try:
            self.conn.execute("SELECT pg_sleep(30)")
        except psycopg.Error as exc:
            self.error = exc

    def close(self) -> None:
        if self.thread.is_alive():
            self.conn.cancel_safe()
            self.thread.join(10)
        self.conn.close()


def test_actions_are_absent_and_refused_by_default(database, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database)
    app = open_page("views/activity.py")
    assert not app.exception and not errors(app)
    assert "Connections" in subheaders(app) and ACTION_PANEL not in subheaders(app)
    assert [button.key for button in app.button if button.key == "action_run"] == []
    assert [box for box in app.checkbox if box.key == "action_confirm"] == []
    sleeper = Sleeper(database)
    try:
        with pytest.raises(ActionDisabledError, match="cancelling a query is disabled"):
            cancel_backend(make_engine(database), sleeper.pid, enabled=False)
        assert sleeper.thread.is_alive() and sleeper.error is None
    finally:
        sleeper.close()


def test_an_enabled_cancel_needs_confirmation_and_cancels_that_query(database, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_ALLOW_ACTIONS="true")
    sleeper = Sleeper(database)
    try:
        app = open_page("views/activity.py")
        assert not app.exception and ACTION_PANEL in subheaders(app)
        assert app.button(key="action_run").disabled
        app.number_input(key="action_pid").set_value(sleeper.pid)
        app.radio(key="action_kind").set_value("cancel query").run()
        assert app.button(key="action_run").disabled  # still not confirmed
        assert sleeper.thread.is_alive()
        app.checkbox(key="action_confirm").check().run()
        assert app.checkbox(key="action_confirm").label == f"Yes, cancel query of pid {sleeper.pid}"
        assert not app.button(key="action_run").disabled
        app.button(key="action_run").click().run()
        assert not app.exception
        assert [str(success.value) for success in app.success if "pid" in str(success.value)] == [
            f"cancel query of pid {sleeper.pid}: done"]
        sleeper.thread.join(10)
        assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
        assert sleeper.conn.execute("SELECT 1").fetchone() == (1,)  # cancelled, not terminated
    finally:
        sleeper.close()


# ---------------------------------------------------------------------------------------------
# hostile identifiers


HOSTILE_TABLE = 'x"; DROP TABLE y; --'
HOSTILE_INDEX = 'ix"; DROP TABLE y; --'


def quote_ident(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


@pytest.fixture
def hostile_database(database) -> str:
    table, index = quote_ident(HOSTILE_TABLE), quote_ident(HOSTILE_INDEX)
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("CREATE TABLE y (id int)")
        conn.execute(f"CREATE TABLE {table} (id serial PRIMARY KEY, email text, note text) "
                     "WITH (autovacuum_enabled = false)")
        conn.execute(f"CREATE UNIQUE INDEX {quote_ident('uq ' + HOSTILE_TABLE)} ON {table} (email)")
        conn.execute(f"CREATE INDEX {index} ON {table} (note)")  # never scanned
        conn.execute(f"INSERT INTO {table} (email, note) SELECT 'u' || g, 'n' || g FROM generate_series(1, 100) g")
        conn.execute(f"DELETE FROM {table} WHERE id % 2 = 0")  # 50 dead rows
        conn.execute(f"SELECT count(*) FROM {table} WHERE id < %s", (10,))
    return database


def test_hostile_identifiers_are_shown_and_quoted_never_executed(hostile_database, redis_url, monkeypatch, tmp_path,
                                                                  fresh_caches):
    configure(monkeypatch, tmp_path, hostile_database, redis_url)
    for page in PAGES:
        app = open_page(page)
        assert not app.exception, (page, [str(exc.value) for exc in app.exception])
        assert not errors(app), (page, errors(app))
        if page == "views/space.py":
            assert HOSTILE_TABLE in set(find_frame(app, "table_name", "total_bytes")["table_name"])
        if page == "views/maintenance.py":
            stats = [frame for frame in frames(app) if "dead_rows" in frame.columns][-1]  # after 'autovacuum due'
            assert int(stats.loc[stats["table_name"] == HOSTILE_TABLE, "dead_rows"].iloc[0]) == 50

    result = run_cli("report", "--out", str(tmp_path / "out"), "--database-url", hostile_database)
    assert result.returncode == 0, result.stderr
    unused = pd.read_csv(tmp_path / "out" / "unused_indexes.csv")
    row = unused[unused["table_name"] == HOSTILE_TABLE]
    assert list(row["index_name"]) == [HOSTILE_INDEX]  # the unique index is not offered for dropping
    fix_sql = row["fix_sql"].iloc[0]
    assert fix_sql == f"DROP INDEX CONCURRENTLY public.{quote_ident(HOSTILE_INDEX)};"
    with psycopg.connect(hostile_database, autocommit=True) as conn:
        assert conn.execute("SELECT to_regclass('public.y') IS NOT NULL").fetchone() == (True,)
        conn.execute(fix_sql)  # the suggested fix drops exactly that index, nothing else
        remaining = conn.execute("SELECT relname FROM pg_class WHERE relname IN ('y', %s, %s) ORDER BY relname",
                                 (HOSTILE_TABLE, HOSTILE_INDEX)).fetchall()
    assert remaining == [(HOSTILE_TABLE,), ("y",)]


# ---------------------------------------------------------------------------------------------
# secrets never shown


def rendered_text(app: AppTest) -> str:
    """Everything a viewer could see: every element's protobuf as text (labels, values, help,
    chart specs, table bytes) and every table's cells as CSV."""
    parts: list[str] = []

    def walk(node) -> None:
        if node.proto is not None:
            parts.append(str(node.proto))
        value = getattr(node, "value", None) if node.type in ("arrow_data_frame", "dataframe") else None
        if isinstance(value, pd.DataFrame):
            parts.append(value.to_csv())
        for child in getattr(node, "children", {}).values():
            walk(child)

    for child in app._tree.children.values():
        walk(child)
    return "\n".join(parts)


def log_in(app: AppTest, password: str) -> AppTest:
    app.text_input[0].input(password)
    return next(button for button in app.button if button.label == "Log in").click().run()


@pytest.fixture
def password_role_url(database, cluster):
    """A role that must give its real password (member of pgpulse_password_auth) and its URL."""
    role, password = f"pw_{uuid.uuid4().hex[:8]}", f"Db-Pass-{uuid.uuid4().hex[:12]}"
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE pgpulse_password_auth NOLOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD '{password}' IN ROLE pgpulse_password_auth, pg_monitor")
    url = make_url(database).set(username=role, password=password).render_as_string(hide_password=False)
    with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
        psycopg.connect(make_url(url).set(password="wrong").render_as_string(hide_password=False)).close()
    yield url, password
    with psycopg.connect(database, autocommit=True) as conn:
        conn.execute("SELECT pg_terminate_backend(pid) FROM pg_stat_activity WHERE usename = %s", (role,))
        conn.execute(f"DROP ROLE IF EXISTS {role}")


def assert_secrets_absent(text: str, *secrets: str) -> None:
    for secret in secrets:
        assert secret not in text, f"a password was shown: ...{text[max(text.find(secret) - 200, 0):][:400]}..."


def every_page_logged_in(login_password: str, *, explain: bool = True) -> dict[str, AppTest]:
    apps = {}
    for page in PAGES:
        app = log_in(AppTest.from_file(APP, default_timeout=60).run(), login_password)
        if page != "views/overview.py":
            app.switch_page(page).run()
        if page == "views/explain.py" and explain:
            app.text_area(key="explain_sql").input("SELECT relname FROM pg_class WHERE relkind = 'r'")  # sent with the click
            app.button(key="e_run").click().run()
        assert not app.exception, (page, [str(exc.value) for exc in app.exception])
        apps[page] = app
    return apps


def test_passwords_never_reach_a_page_or_the_cli_errors(cluster, password_role_url, redis_url, monkeypatch, tmp_path,
                                                        fresh_caches):
    """The role was created with CREATE ROLE ... PASSWORD in the watched database, so pg_stat_statements
    holds that statement with its literal: the pages must mask it too."""
    url, db_password = password_role_url
    login_password = f"Login-Pass-{uuid.uuid4().hex[:12]}"
    configure(monkeypatch, tmp_path, url, redis_url, PGPULSE_PASSWORD=login_password)

    apps = every_page_logged_in(login_password)
    assert {metric.label for metric in apps["views/overview.py"].metric} >= {"PostgreSQL", "Connections"}
    assert not errors(apps["views/queries.py"]) and len(frames(apps["views/explain.py"])) == 1  # the plan's nodes
    statements = frames(apps["views/queries.py"])[0]
    assert [query for query in statements["query"] if query.startswith("CREATE ROLE pw_")] == [
        f"CREATE ROLE {url.split('://')[1].split(':')[0]} LOGIN PASSWORD '***' IN ROLE pgpulse_password_auth, pg_monitor"]
    for app in apps.values():
        assert_secrets_absent(rendered_text(app), db_password, login_password)

    cluster.stop()
    try:
        st.cache_data.clear()
        apps = every_page_logged_in(login_password, explain=False)  # Explain is the banner too: no form to fill
        for page in SERVER_PAGES:
            app, shown = apps[page], errors(apps[page])
            assert len(shown) == 1 and "the server cannot be reached" in shown[0], (page, shown)  # one banner per page
            assert_secrets_absent(rendered_text(app), db_password, login_password)
        assert_cli_keeps_secrets(url, redis_url, tmp_path / "down", 2, db_password, login_password)
    finally:
        cluster.start()


def test_report_csvs_never_hold_a_password(password_role_url, redis_url, tmp_path):
    url, db_password = password_role_url
    assert_cli_keeps_secrets(url, redis_url, tmp_path / "up", 0, db_password)


def assert_cli_keeps_secrets(url: str, redis_url: str, out: Path, status: int, *secrets: str) -> None:
    result = run_cli("report", "--out", str(out), "--database-url", url, "--redis-url", redis_url)
    assert result.returncode == status, result.stderr
    assert "Traceback" not in result.stderr
    assert_secrets_absent(result.stdout + result.stderr, *secrets)
    written = sorted(out.glob("*.csv")) if out.exists() else []
    from dashboard.cli import report_names

    assert len(written) == (len(report_names()) if status == 0 else 0), (written, result.stdout)
    for path in written:
        assert_secrets_absent(path.read_text(), *secrets)


# ---------------------------------------------------------------------------------------------
# login


def assert_only_the_login_form(app: AppTest) -> None:
    assert not app.exception
    assert [str(title.value) for title in app.title] == ["pgpulse"]
    assert [box.label for box in app.text_input] == ["Password"]
    assert not app.metric and not app.dataframe and not app.get("page_link") and not app.get("plotly_chart")
    assert not app.sidebar.children  # no target, no host:port
    assert not [element for element in app.markdown if element.value]


def test_login_shows_nothing_until_the_right_password(database, monkeypatch, tmp_path, fresh_caches):
    configure(monkeypatch, tmp_path, database, PGPULSE_PASSWORD="open-sesame")
    app = AppTest.from_file(APP, default_timeout=60).run()
    assert_only_the_login_form(app)
    assert "127.0.0.1" not in rendered_text(app) and "fault_probe" not in rendered_text(app)

    log_in(app, "open sesame")
    assert_only_the_login_form(app)
    assert errors(app) == ["Wrong password."]

    log_in(app, "open-sesame")
    assert not app.exception and not errors(app)
    assert [str(title.value) for title in app.title] == ["Overview"]
    assert "Connections" in {metric.label for metric in app.metric}
