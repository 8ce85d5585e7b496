"""`python -m dashboard collect` as a subprocess, the history settings, and the store's SQL files."""
from __future__ import annotations

import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import pandas as pd
import psycopg
import pytest

from dashboard.config import REPO_ROOT, ConfigError, load_settings
from demo.postgres import free_port
from queries.history._sql import STORE_SQL_DIR
from tests.conftest import run_and_flush
from tests.history_support import collect_while, hold_row_lock, new_store, rows
from tests.test_cli import run_cli


def test_collect_once_twice_stores_a_base_then_deltas(fresh_db, pg_admin_url):
    store = new_store(pg_admin_url)
    for _ in range(2):
        result = run_cli("collect", "--once", "--database-url", fresh_db, "--target", "cli", "--history-url", store)
        assert result.returncode == 0, result.stderr
    assert rows(store, "SELECT name FROM pgpulse.target") == [("cli",)]
    assert rows(store, "SELECT count(*) FROM pgpulse.statement_collection") == [(1,)]
    assert rows(store, "SELECT count(*) > 0 FROM pgpulse.statement_delta") == [(True,)]  # the collector's own reads at least


def test_collect_once_takes_one_activity_sample(fresh_db, pg_admin_url):
    store = new_store(pg_admin_url)
    with psycopg.connect(fresh_db, autocommit=True) as sleeper:
        sleeping = threading.Thread(target=sleep_until_canceled, args=(sleeper,))
        sleeping.start()
        try:
            wait_until_active(fresh_db, "pg_sleep(30)")
            result = run_cli("collect", "--once", "--database-url", fresh_db, "--target", "cli", "--history-url", store)
        finally:
            with psycopg.connect(fresh_db, autocommit=True) as admin:
                admin.execute("SELECT pg_cancel_backend(%s)", (sleeper.info.backend_pid,))
            sleeping.join()
    assert result.returncode == 0, result.stderr
    assert rows(store, "SELECT samples FROM pgpulse.activity_bucket") == [(1,)]
    assert rows(store, """SELECT state, wait_event, samples FROM pgpulse.activity_load
                          WHERE wait_event = 'PgSleep'""") == [("active", "PgSleep", 1)]


def sleep_until_canceled(conn: psycopg.Connection) -> None:
    try:
        conn.execute("SELECT pg_sleep(30)")
    except psycopg.errors.QueryCanceled:
        pass


def wait_until_active(url: str, text: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(100):
            if conn.execute("SELECT count(*) FROM pg_stat_activity WHERE state = 'active' AND query LIKE %s",
                            (f"%{text}%",)).fetchone()[0]:
                return
            time.sleep(0.1)
    raise AssertionError(f"{text} never became active")


def test_collect_reads_the_store_from_the_environment(fresh_db, pg_admin_url):
    store = new_store(pg_admin_url)
    result = run_cli("collect", "--once", env_extra={"DATABASE_URL": fresh_db, "PGPULSE_HISTORY_URL": store})
    assert result.returncode == 0, result.stderr
    assert rows(store, "SELECT name FROM pgpulse.target") == [("default",)]


def test_collect_without_a_store_says_how_to_name_one(fresh_db):
    result = run_cli("collect", "--once", "--database-url", fresh_db)
    assert result.returncode == 2 and "pass --history-url URL or set PGPULSE_HISTORY_URL" in result.stderr


def test_collect_once_from_an_unreachable_target_fails_without_its_password(pg_admin_url):
    store = new_store(pg_admin_url)
    url = f"postgresql://someone:hunter2-secret@127.0.0.1:{free_port()}/db"
    result = run_cli("collect", "--once", "--database-url", url, "--history-url", store)
    assert result.returncode == 1
    assert "target default: database unreachable" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout and "Traceback" not in result.stderr


def test_sigterm_stops_the_collector_cleanly(fresh_db, pg_admin_url):
    store = new_store(pg_admin_url)
    env = {"PATH": "/usr/bin:/bin", "PGPULSE_SECRETS": "/nonexistent.toml", "PGPULSE_HISTORY_DATABASE_SECONDS": "1"}
    process = subprocess.Popen([sys.executable, "-m", "dashboard", "collect", "--database-url", fresh_db,
                                "--history-url", store], cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            if _has_table(store) and rows(store, "SELECT count(*) FROM pgpulse.database_delta")[0][0] >= 2:
                break
            time.sleep(0.3)
        process.send_signal(signal.SIGTERM)
        _, stderr = process.communicate(timeout=30)
    finally:
        process.kill()
    assert process.returncode == 0, stderr
    assert "collecting 1 target(s)" in stderr and stderr.rstrip().endswith("stopped")
    assert rows(store, "SELECT count(*) >= 2 FROM pgpulse.database_delta") == [(True,)]


def _has_table(store: str) -> bool:
    return rows(store, "SELECT to_regclass('pgpulse.database_delta') IS NOT NULL")[0][0]


def test_history_settings(tmp_path):
    settings = load_settings({"DATABASE_URL": "postgresql://h/a", "PGPULSE_HISTORY_URL": "postgresql://s/h",
                              "PGPULSE_HISTORY_STATEMENTS_SECONDS": "30", "PGPULSE_HISTORY_RETENTION_DAYS": "90"},
                             tmp_path / "none.toml")
    assert (settings.history_url, settings.history_statements_seconds, settings.history_database_seconds,
            settings.history_retention_days) == ("postgresql://s/h", 30, 10, 90)
    assert "postgresql://s/h" not in repr(settings)
    defaults = load_settings({"DATABASE_URL": "postgresql://h/a"}, tmp_path / "none.toml")
    assert (defaults.history_url, defaults.history_statements_seconds, defaults.history_retention_days) == (None, 60, 14)
    with pytest.raises(ConfigError, match="history_statements_seconds must be at least 10"):
        load_settings({"DATABASE_URL": "postgresql://h/a", "PGPULSE_HISTORY_STATEMENTS_SECONDS": "5"}, tmp_path / "none.toml")


def _history_sources() -> str:
    paths = [*Path(REPO_ROOT / "queries" / "history").glob("*.py"), *Path(REPO_ROOT / "collector").glob("*.py")]
    return "\n".join(path.read_text() for path in paths)


def test_every_store_sql_file_is_used_exists_and_says_what_it_reads():
    files = {path.stem for path in STORE_SQL_DIR.glob("*.sql")}
    source = _history_sources()
    called = set(re.findall(r'store_sql\("(\w+)"\)', source)) | set(re.findall(r'_read\(store, "(\w+)"', source))
    assert called <= files, f"referenced but no .sql file: {called - files}"
    unused = files - set(re.findall(r'"(\w+)"', source))
    assert not unused, f".sql files nobody uses: {unused}"
    for path in STORE_SQL_DIR.glob("*.sql"):
        assert path.read_text().startswith("-- "), path.name


def test_report_since_writes_the_database_load_and_the_lock_waits_sampled(fresh_db, pg_admin_url, tmp_path):
    store = new_store(pg_admin_url)
    run_and_flush(fresh_db, "CREATE TABLE hot (id int PRIMARY KEY, n int)", "INSERT INTO hot VALUES (1, 0)")
    pids: dict[str, int] = {}

    def sleep_and_lock() -> None:  # one session in pg_sleep 3 s, two others in a 3 s row lock wait meanwhile
        with psycopg.connect(fresh_db, autocommit=True) as sleeper:
            sleeping = threading.Thread(target=sleeper.execute, args=("SELECT pg_sleep(3)",))
            sleeping.start()
            hold_row_lock(fresh_db, pids)
            sleeping.join()

    collect_while(store, fresh_db, sleep_and_lock)
    result = run_cli("report", "--out", str(tmp_path), "--since", "1h", "--history-url", store,
                     "--database-url", fresh_db, "--target", "app")
    assert result.returncode == 0, result.stderr
    assert {"database_load.csv", "lock_waits.csv"} <= {path.name for path in tmp_path.glob("*.csv")}
    load = pd.read_csv(tmp_path / "database_load.csv", parse_dates=["bucket_start"])
    assert list(load.columns) == ["bucket_start", "dimension", "label", "average_active_sessions"]
    covered = {pd.Timestamp(at): samples * every for at, samples, every in
               rows(store, "SELECT sampled_at, samples, every_s FROM pgpulse.activity_bucket")}
    seconds = (load["average_active_sessions"] * load["bucket_start"].map(covered)).groupby(load["dimension"]).sum()
    assert seconds["Timeout"] == pytest.approx(3.0, abs=0.6)  # pg_sleep: one session for 3 s
    assert seconds["Lock"] == pytest.approx(3.0, abs=0.6)  # the waiter: one session for 3 s
    waits = pd.read_csv(tmp_path / "lock_waits.csv", parse_dates=["sampled_at"])
    assert list(waits.columns) == ["sampled_at", "waiting_pid", "blocking_pid", "lock_mode", "locktype", "relation",
                                   "wait_seconds", "query"]
    assert set(zip(waits["waiting_pid"], waits["blocking_pid"], waits["lock_mode"], waits["locktype"], strict=True)) == {
        (pids["waiter"], pids["blocker"], "ShareLock", "transactionid")}
    assert 5 <= len(waits) <= 7  # 3 s sampled twice a second
    assert set(waits["query"]) == {"UPDATE hot SET n = n + 10 WHERE id = 1"}
    assert waits["wait_seconds"].is_monotonic_increasing and waits["wait_seconds"].max() < 3.5
    assert rows(store, "SELECT count(DISTINCT sampled_at) FROM pgpulse.lock_wait_sample") == [(len(waits),)]


def test_database_load_and_lock_waits_need_a_range(fresh_db, tmp_path):
    result = run_cli("report", "--out", str(tmp_path), "--database-url", fresh_db, "--only", "lock_waits")
    assert result.returncode == 2
    assert "lock_waits come from the history store: add --since SPAN or --from TIME" in result.stderr
