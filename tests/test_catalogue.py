"""The metric catalogue: every page's read is declared, every declaration holds, and the checks it names judge real
conditions on a real server."""
import ast
import threading
import time
from pathlib import Path

import psycopg
import pytest

from dashboard.navigation import PAGES
from queries import catalogue
from queries.catalogue import METRICS, health_checks_declared, metric_of, stored_metrics
from queries.connection import fetch_frame
from queries.health import health_checks
from queries.sql_loader import query_names

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

ROOT = Path(__file__).resolve().parents[1]
VIEWS = ROOT / "dashboard" / "views"
LOADERS = {"load", "reading", "read_age_caption", "read_seconds_ago"}


def loaded_functions(path: Path) -> set[str]:
    """The names of the read functions a page hands to dashboard.data's loaders."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Call) and getattr(node.func, "id", None) in LOADERS and node.args:
            if isinstance(node.args[0], ast.Name):
                names.add(node.args[0].id)
    return names


@pytest.mark.parametrize("path", sorted(VIEWS.glob("*.py")), ids=lambda p: p.name)
def test_every_read_a_page_loads_is_declared(path):
    import importlib

    module_names = {}
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("queries."):
            module_names |= {alias.asname or alias.name: node.module for alias in node.names}
    for name in loaded_functions(path):
        read = getattr(importlib.import_module(module_names[name]), name)
        assert metric_of(read).page is not None, f"{path.name} loads {name}, which no page shows"


def test_declarations_name_real_pages_sql_and_unique_checks():
    for declared in METRICS.values():
        assert declared.page is None or declared.page in PAGES, declared.name
        assert declared.pace in ("live", "status", "sampling", "stats", "sizes"), declared.name
        if declared.stored and declared.source == "postgres":  # a Redis metric's collector read is its read function
            assert declared.stored.sql in query_names(), declared.name
    names = [check.name for check, _ in health_checks_declared()]
    assert len(names) == len(set(names))
    reads = [declared.read for declared in METRICS.values()]
    assert len(reads) == len(set(reads)), "a read function is declared twice"


def test_each_stored_metric_reads_its_keys_and_values_on_a_real_server(engine, fresh_db):
    run = psycopg.connect(fresh_db, autocommit=True)
    run.execute("SELECT 1")
    run.execute("CREATE TABLE sized (id int PRIMARY KEY)")  # a table and an index to size and count scans of
    run.close()
    for declared in stored_metrics():
        stored = declared.stored
        if declared.source == "redis":  # tests/test_history_settings_redis.py reads it from a real Redis
            continue
        frame = fetch_frame(engine, stored.sql, {"with_text": False} if stored.texts_sql else None)
        assert {*stored.keys, *stored.values, *stored.names} <= set(frame.columns), declared.name
        assert not frame.empty, declared.name  # this very connection is a statement, a database and a session
        if stored.fallback_sql:  # the same columns, when the main read times out
            fallback = fetch_frame(engine, stored.fallback_sql)
            assert list(fallback.columns) == list(frame.columns) and len(fallback) == len(frame), declared.name
        if stored.texts_sql:  # the texts of the keys just read, as the collector asks for new ones
            texts = fetch_frame(engine, stored.texts_sql, {"queryids": frame["queryid"].tolist()})
            assert set(stored.texts) <= set(texts.columns), declared.name
            assert set(texts["queryid"]) == set(frame["queryid"]), declared.name


def test_metric_lookup_refuses_an_undeclared_function():
    with pytest.raises(KeyError, match="not declared"):
        metric_of(test_metric_lookup_refuses_an_undeclared_function)
    with pytest.raises(KeyError, match="no metric named"):
        catalogue.metric("no_such_metric")


def test_health_rows_follow_the_catalogue_in_order(engine):
    checks = health_checks(engine)
    assert list(checks["check"]) == [check.name for check, m in health_checks_declared("postgres")]
    assert list(checks["page"]) == [m.page for _, m in health_checks_declared("postgres")]


def test_a_blocked_session_warns_with_the_right_grammar(fresh_db, engine):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE held (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO held VALUES (1, 'x')")
    blocker = psycopg.connect(fresh_db)
    blocker.execute("UPDATE held SET note = 'blocker' WHERE id = 1")
    waiter = threading.Thread(target=lambda: psycopg.connect(fresh_db, autocommit=True).execute(
        "UPDATE held SET note = 'waiter' WHERE id = 1"), daemon=True)
    waiter.start()
    try:
        time.sleep(1.2)
        checks = health_checks(engine, groups=("live",), blocked_s=1).set_index("check")
        assert checks.loc["Blocked sessions", "status"] == "warn"
        assert checks.loc["Blocked sessions", "value"] == 1
        assert checks.loc["Blocked sessions", "detail"] == "1 session waiting on another's lock for 1 s or more"
        # the same moment against a longer threshold: nobody has waited that long
        calm = health_checks(engine, groups=("live",), blocked_s=600).set_index("check")
        assert calm.loc["Blocked sessions", "status"] == "pass"
        assert calm.loc["Blocked sessions", "detail"] == "0 sessions waiting on another's lock for 600 s or more"
    finally:
        blocker.rollback()
        blocker.close()
        waiter.join(10)


def test_one_statement_taking_most_of_the_time_warns_though_its_mean_is_small(fresh_db, engine):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SET pg_stat_statements.track_utility = off")  # the CREATE TABLE must not be the busiest
        conn.execute("CREATE TABLE busy AS SELECT g AS id FROM generate_series(1, 200000) g")
        conn.execute("SELECT pg_stat_statements_reset()")
        for _ in range(10):
            conn.execute("SELECT count(*) FROM busy WHERE id % 7 = 3")
        conn.execute("SELECT 1")
    checks = health_checks(engine, groups=("catalog",)).set_index("check")
    row = checks.loc["Statement dominating the time"]
    assert row["status"] == "warn" and row["value"] > 0.5
    assert "SELECT count(*) FROM busy WHERE id % $1 = $2" in row["detail"]
    # its mean is far below a second: the slow-statement check stays green, which is why this check exists
    assert checks.loc["Slow statements", "status"] == "pass"
