"""Stale statistics on a real server: a table changed past its analyze threshold (per-table settings honoured) is
listed with its counts and the statement its old statistics misestimate, and gone after ANALYZE; the ANALYZE action
runs only when actions are enabled, and on the Maintenance page only after confirmation."""
import psycopg
import pytest

from queries.actions import ActionDisabledError, analyze_table
from queries.advisors.statistics import stale_statistics
from queries.errors import PgPulseError
from tests.conftest import flush_statistics, poll

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

# autovacuum off on each table: its own ANALYZE must not race the assertions (and the page must say it is off)
SETUP = [
    "CREATE TABLE orders (id int PRIMARY KEY, status int NOT NULL) WITH (autovacuum_enabled = false)",
    "INSERT INTO orders SELECT g, 0 FROM generate_series(1, 10000) g",
    # half the rows may change before autovacuum would analyze it: 3,000 changed rows are not enough
    "CREATE TABLE tolerant (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false,"
    " autovacuum_analyze_scale_factor = 0.5)",
    "INSERT INTO tolerant SELECT g, 0 FROM generate_series(1, 10000) g",
    # analyzed after 10 changed rows, whatever its size: 100 are enough though the server's threshold is 1,050
    "CREATE TABLE eager (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false, autovacuum_analyze_threshold = 10,"
    " autovacuum_analyze_scale_factor = 0)",
    "INSERT INTO eager SELECT g, 0 FROM generate_series(1, 10000) g",
]
CHANGES = [
    "ANALYZE orders, tolerant, eager",
    # 90,000 new orders, each of its own status: the statistics still say every order has status 0
    "INSERT INTO orders SELECT g, g FROM generate_series(10001, 100000) g",
    "UPDATE tolerant SET v = 1 WHERE id <= 3000",
    "UPDATE eager SET v = 1 WHERE id <= 100",
    "SELECT pg_stat_statements_reset()",
]


def _inserted_rows(conn: psycopg.Connection) -> int:
    return conn.execute("SELECT sum(pg_stat_get_mod_since_analyze(oid)) FROM pg_class "
                        "WHERE relname IN ('orders', 'tolerant', 'eager')").fetchone()[0]


def _changed(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SETUP:
            conn.execute(statement)
        flush_statistics(conn)
        # counts a backend has not flushed yet would land after ANALYZE, on top of its fresh zero
        poll(lambda: _inserted_rows(conn), lambda rows: rows == 30000)
        for statement in CHANGES:
            conn.execute(statement)
        for status in range(20000, 20010):  # one row each; the old statistics expect every row of the table
            conn.execute("SELECT id FROM orders WHERE status = %s", (status,))
        flush_statistics(conn)


def test_a_table_changed_past_its_threshold_is_listed_until_analyzed(fresh_db, engine):
    _changed(fresh_db)
    frame = poll(lambda: stale_statistics(engine), lambda found: len(found) == 2)
    assert list(frame["table_name"]) == ["orders", "eager"]  # 90,000 / 1,050 past the threshold, then 100 / 10
    orders, eager = frame.iloc[0], frame.iloc[1]
    assert (orders["schema_name"], orders["estimated_rows"], orders["rows_modified_since_analyze"],
            orders["analyze_threshold_rows"]) == ("public", 10000, 90000, 1050)
    assert orders["modified_ratio"] == 9.0 and orders["fix_sql"] == "ANALYZE public.orders"
    assert not orders["autovacuum_enabled"] and orders["last_analyzed"] is not None
    # the generic plan of the lookup by status expects the whole table (n_distinct 1), each call returned one row
    assert orders["misestimated_statements"] == 1 and orders["worst_misestimate_factor"] > 10_000
    assert orders["worst_statement"] == "SELECT id FROM orders WHERE status = $1"
    assert (eager["rows_modified_since_analyze"], eager["analyze_threshold_rows"], eager["misestimated_statements"]) == (
        100, 10, 0)
    assert eager["worst_statement"] is None

    with pytest.raises(ActionDisabledError, match="analyzing a table is disabled"):
        analyze_table(engine, "public", "orders", enabled=False)
    assert list(stale_statistics(engine)["table_name"]) == ["orders", "eager"]  # nothing ran
    assert analyze_table(engine, "public", "orders", enabled=True) == "ANALYZE public.orders"
    frame = poll(lambda: stale_statistics(engine), lambda found: len(found) == 1)
    assert list(frame["table_name"]) == ["eager"]
    with pytest.raises(PgPulseError, match="no table public.gone to analyze"):
        analyze_table(engine, "public", "gone", enabled=True)


def test_the_health_check_counts_the_stale_tables(fresh_db, engine):
    from queries.health import health_checks

    _changed(fresh_db)
    poll(lambda: stale_statistics(engine, statement_limit=0), lambda found: len(found) == 2)
    check = health_checks(engine, groups=("catalog",)).set_index("check").loc["Stale statistics"]
    assert (check["status"], check["value"]) == ("warn", 2)
    assert check["detail"] == ("2 tables changed past the analyze threshold since the last ANALYZE, the most: "
                               "ANALYZE public.orders (90,000 rows changed)")


def test_maintenance_page_lists_them_and_analyzes_only_after_confirmation(app_env, monkeypatch):
    from dashboard.data import _settings
    from tests.test_app import run_page

    with psycopg.connect(app_env, autocommit=True) as conn:
        # app_env's app_probe (100 rows, never analyzed) would be listed until autovacuum analyzes it: settle it now
        conn.execute("ANALYZE app_probe")
    _changed(app_env)
    app = run_page("views/maintenance.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert [button for button in app.button if button.key == "analyze_run"] == []  # actions are off by default
    shown = next(frame.value for frame in app.dataframe if "analyze_threshold_rows" in frame.value.columns)
    assert list(shown["table_name"]) == ["orders", "eager"]

    monkeypatch.setenv("PGPULSE_ALLOW_ACTIONS", "true")
    _settings.clear()  # the configuration is read once per process
    app = run_page("views/maintenance.py")
    assert app.button(key="analyze_run").disabled
    assert app.selectbox(key="analyze_table").value == 0
    app.checkbox(key="analyze_confirm").check().run()
    assert app.checkbox(key="analyze_confirm").label == "Yes, run ANALYZE public.orders"
    app.button(key="analyze_run").click().run()
    assert not app.exception and [str(s.value) for s in app.success] == ["ANALYZE public.orders: done"]
    with psycopg.connect(app_env) as conn:
        assert conn.execute("SELECT pg_stat_get_mod_since_analyze('orders'::regclass)").fetchone() == (0,)
