"""The report command end to end, as a subprocess, against a real database."""
import re
import subprocess
import sys

import pandas as pd
import psycopg

from dashboard.config import REPO_ROOT
from demo.postgres import free_port


def run_cli(*args: str, env_extra: dict | None = None) -> subprocess.CompletedProcess:
    env = {"PATH": "/usr/bin:/bin", "PGPULSE_SECRETS": "/nonexistent.toml", **(env_extra or {})}
    return subprocess.run([sys.executable, "-m", "dashboard", *args], cwd=REPO_ROOT, env=env,
                          capture_output=True, text=True, timeout=120)


def test_report_writes_statements_csv_with_the_known_statement(fresh_db, tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE cli_probe (id int)")
        for _ in range(3):
            conn.execute("SELECT count(*) FROM cli_probe WHERE id = %s", (1,))
    result = run_cli("report", "--out", str(tmp_path / "out"), "--database-url", fresh_db)
    assert result.returncode == 0, result.stderr
    frame = pd.read_csv(tmp_path / "out" / "statements.csv")
    row = frame[frame["query"] == "SELECT count(*) FROM cli_probe WHERE id = $1"]
    assert len(row) == 1 and row["calls"].iloc[0] == 3
    from dashboard.cli import report_names

    postgres_reports = len(report_names(with_redis=False))  # every PostgreSQL report + health; no Redis given
    assert postgres_reports >= 14 and f"{postgres_reports} of {postgres_reports} reports" in result.stdout


def test_report_reads_database_url_from_environment(fresh_db, tmp_path):
    result = run_cli("report", "--out", str(tmp_path), env_extra={"DATABASE_URL": fresh_db})
    assert result.returncode == 0, result.stderr
    assert (tmp_path / "statements.csv").exists()


def test_unreachable_server_exits_nonzero_without_password(tmp_path):
    url = f"postgresql://someone:hunter2-secret@127.0.0.1:{free_port()}/db"
    result = run_cli("report", "--out", str(tmp_path), "--database-url", url)
    assert result.returncode == 2
    assert "database unreachable" in result.stderr
    assert "hunter2-secret" not in result.stderr + result.stdout
    assert "Traceback" not in result.stderr


def test_non_postgresql_url_is_refused_by_name(tmp_path):
    result = run_cli("report", "--out", str(tmp_path), "--database-url", "mysql://root:pw@localhost/db")
    assert result.returncode == 2
    assert "not a PostgreSQL URL: scheme 'mysql'" in result.stderr


def test_missing_extension_names_the_report_and_the_fix(pg_admin_url, tmp_path):
    from tests.conftest import create_database

    url = create_database(pg_admin_url, "cli_noext", extension=False)
    result = run_cli("report", "--out", str(tmp_path), "--database-url", url)
    assert result.returncode == 1
    assert "statements: not written: " in result.stderr
    assert "CREATE EXTENSION pg_stat_statements" in result.stderr


def test_no_target_configured(tmp_path):
    result = run_cli("report", "--out", str(tmp_path))
    assert result.returncode == 2
    assert "pass --database-url" in result.stderr


def test_explain_json_has_the_figures_and_the_plan(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE cli_big AS SELECT g AS id, g % 100 AS v FROM generate_series(1, 50000) g")
        conn.execute("ANALYZE cli_big")
    result = run_cli("explain", "--analyze", "--json", "--database-url", fresh_db, "SELECT * FROM cli_big WHERE v = 7")
    assert result.returncode == 0, result.stderr
    import json

    data = json.loads(result.stdout)
    assert data["execution_ms"] > 0 and data["total_ms"] >= data["execution_ms"]
    scan = [node for node in data["nodes"] if node["relation"] and "cli_big" in node["relation"]]
    assert scan and scan[0]["node_type"] in ("Seq Scan", "Parallel Seq Scan")
    assert scan[0]["actual_rows"] * scan[0]["actual_loops"] == 500
    assert any("index" in flag for flag in scan[0]["flags"])
    for key in ("plan_rows", "loops", "inclusive_ms", "exclusive_ms", "misestimate"):
        assert any(key in name for name in scan[0]), key
    assert data["plan"][0]["Plan"]


def test_explain_refuses_destructive_sql_with_the_reason(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE keep_me AS SELECT 1 AS id")
    for sql, word in [("DROP TABLE keep_me", "DROP"), ("SELECT 1; DELETE FROM keep_me", "2 statements"),
                      ("DELETE FROM keep_me", "DELETE")]:
        result = run_cli("explain", "--analyze", "--database-url", fresh_db, sql)
        assert result.returncode == 2 and word in result.stderr and "Traceback" not in result.stderr
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM keep_me").fetchone()[0] == 1


def test_explain_text_lists_flagged_nodes(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE cli_scan AS SELECT g AS id, g % 1000 AS v FROM generate_series(1, 50000) g")
        conn.execute("ANALYZE cli_scan")
    result = run_cli("explain", "--analyze", "--database-url", fresh_db, "SELECT * FROM cli_scan WHERE v = 3")
    assert result.returncode == 0, result.stderr
    assert "SELECT: planning" in result.stdout and "suggestion: CREATE INDEX ON cli_scan (v)" in result.stdout
    # the advisor's verdict, on the command's one-connection pool (EXPLAIN's own connection is closed first)
    assert ("index advice: equality on v; not verified: install hypopg to check them; 50.0 rows returned per call "
            "from a table of about 50,000 rows") in result.stdout


def test_explain_text_without_a_suggestion_prints_none_and_lists_the_slowest_first(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE cli_sum AS SELECT g AS id FROM generate_series(1, 20000) g")
        conn.execute("ANALYZE cli_sum")
    result = run_cli("explain", "--analyze", "--database-url", fresh_db, "SELECT sum(id) FROM cli_sum")
    assert result.returncode == 0, result.stderr
    flagged = [line for line in result.stdout.splitlines() if line.startswith("  #")]
    shares = [int(re.search(r": (\d+)% of time", line)[1]) for line in flagged]
    assert flagged and shares == sorted(shares, reverse=True), result.stdout  # times vary: 1 or 2 flagged
    assert "suggestion" not in result.stdout and "nan" not in result.stdout
    plain = run_cli("explain", "--database-url", fresh_db, "SELECT * FROM cli_sum WHERE id < $1")
    assert plain.returncode == 0, plain.stderr
    assert plain.stdout.startswith("SELECT: planning ") and "not executed" in plain.stdout


# the catalogue declares the reports; these are the ones users and scripts already rely on, and every table of the
# Cache page (key namespaces too)
KNOWN_REPORTS = {"statements", "activity", "blocking", "wait_events", "table_sizes", "index_sizes", "unused_indexes",
                 "duplicate_indexes", "invalid_indexes", "maintenance", "wraparound", "sequences", "settings", "health",
                 "redis_info", "redis_commandstats", "redis_slowlog", "redis_keyspace", "redis_namespaces",
                 "table_cache_hit", "index_cache_hit"}


def test_report_writes_every_file_with_the_conditions_created(fresh_db, redis_url, tmp_path):
    import threading

    import redis

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE orders (id serial PRIMARY KEY, customer int, note text)")
        conn.execute("INSERT INTO orders (customer) SELECT g FROM generate_series(1, 100) g")
        conn.execute("CREATE INDEX orders_customer_unused ON orders (customer)")
        conn.execute("CREATE INDEX orders_customer_note ON orders (customer, note)")
    redis.Redis.from_url(redis_url).set("pgpulse:test:report", "1")
    blocker = psycopg.connect(fresh_db)
    blocker.execute("UPDATE orders SET note = 'held' WHERE id = 1")
    blocked = threading.Thread(target=lambda: psycopg.connect(fresh_db, autocommit=True).execute(
        "UPDATE orders SET note = 'waiting' WHERE id = 1"), daemon=True)
    blocked.start()
    try:
        result = run_cli("report", "--out", str(tmp_path), "--database-url", fresh_db, "--redis-url", redis_url)
    finally:
        blocker.rollback()
        blocker.close()
        blocked.join(10)
    assert result.returncode == 0, result.stderr
    from dashboard.cli import report_names

    written = {path.stem for path in tmp_path.glob("*.csv")}
    assert written == set(report_names()) and written >= KNOWN_REPORTS
    assert "pgpulse:test" in set(pd.read_csv(tmp_path / "redis_namespaces.csv")["namespace"])
    blocking = pd.read_csv(tmp_path / "blocking.csv")
    assert set(blocking["lock_mode"]) >= {"ShareLock"} and len(blocking) == 2
    assert "orders_customer_unused" in set(pd.read_csv(tmp_path / "unused_indexes.csv")["index_name"])
    assert set(pd.read_csv(tmp_path / "duplicate_indexes.csv")["index_name"]) == {"orders_customer_unused"}
    assert "shared_buffers" in set(pd.read_csv(tmp_path / "settings.csv")["name"])
    assert "set" in set(pd.read_csv(tmp_path / "redis_commandstats.csv")["command"])
    from queries.catalogue import health_checks_declared

    health = pd.read_csv(tmp_path / "health.csv")
    assert list(health["check"]) == [check.name for check, _ in health_checks_declared()]
    assert {"Blocked sessions", "Statement dominating the time", "Redis memory"} <= set(health["check"])


def test_a_report_that_cant_be_had_is_named_and_the_others_written(fresh_db, tmp_path):
    result = run_cli("report", "--out", str(tmp_path), "--database-url", fresh_db,
                     "--redis-url", f"redis://127.0.0.1:{free_port()}/0")
    assert result.returncode == 1
    for name in ("redis_info", "redis_commandstats", "redis_slowlog", "redis_keyspace"):
        assert f"{name}: not written: " in result.stderr
    assert (tmp_path / "statements.csv").exists() and (tmp_path / "health.csv").exists()
    health = pd.read_csv(tmp_path / "health.csv").set_index("check")
    assert health.loc["Redis hit ratio", "status"] == "error"
