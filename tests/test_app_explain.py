"""The Explain page in AppTest: a plan is shown, destructive SQL is refused and loses nothing,
runs are compared, and a statement arrives from the Queries page's link."""
import psycopg
import pytest

from tests.test_app import run_page

PAGE = "views/explain.py"


@pytest.fixture
def explain_env(app_env):
    with psycopg.connect(app_env, autocommit=True) as conn:
        conn.execute("CREATE TABLE big AS SELECT g AS id, g % 500 AS v FROM generate_series(1, 40000) g")
        conn.execute("ANALYZE big")
    return app_env


def explain_sql(app, sql: str):
    app.text_area(key="explain_sql").input(sql).run()
    app.button(key="e_run").click().run()
    return app


def row_count(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM big").fetchone()[0]


def test_plan_with_flags_and_index_suggestion(explain_env):
    app = explain_sql(run_page(PAGE), "SELECT * FROM big WHERE v = 42")
    assert not app.exception and not app.error, [e.value for e in app.error]
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Rows"] == "80" and metrics["Flagged nodes"].startswith("1 of")
    warnings = " ".join(warning.value for warning in app.warning)
    assert "Seq Scan on big" in warnings and "CREATE INDEX ON big (v)" in warnings
    nodes = app.dataframe[0].value
    assert "Seq Scan on big" in set(nodes["label"])


@pytest.mark.parametrize("sql, reason", [
    ("DELETE FROM big", "DELETE modifies data"),
    ("DROP TABLE big", "DROP TABLE is not allowed"),
    ("SELECT 1; DROP TABLE big", "2 statements"),
    ("SELEC * FROM big", "syntax error"),
])
def test_refused_statements_say_why_and_lose_nothing(explain_env, sql, reason):
    app = explain_sql(run_page(PAGE), sql)
    assert not app.exception
    assert any(reason in error.value for error in app.error), [error.value for error in app.error]
    assert row_count(explain_env) == 40000


def test_two_runs_are_compared_before_and_after_an_index(explain_env):
    app = explain_sql(run_page(PAGE), "SELECT * FROM big WHERE v = 42")
    with psycopg.connect(explain_env, autocommit=True) as conn:
        conn.execute("CREATE INDEX big_v ON big (v)")
        conn.execute("ANALYZE big")
    app.button(key="e_run").click().run()
    assert not app.exception
    comparison = app.dataframe[-1].value
    added = comparison[comparison["metric"] == "node_added"]
    assert any("big_v" in str(value) for value in added.to_numpy().ravel())


def test_statement_arrives_from_the_queries_link(explain_env):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP

    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["sql"] = "SELECT count(*) FROM big WHERE id < $1"
    app.run()
    app.switch_page(PAGE).run()
    assert app.text_area(key="explain_sql").value == "SELECT count(*) FROM big WHERE id < $1"
    assert app.text_input(key="e_param_0") is not None
