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
    """Paste and click at once: the text area is in a form, so the click sends the text with it."""
    app.text_area(key="explain_sql").input(sql)
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
    assert "Seq Scan on big" in set(nodes["Node"])


@pytest.mark.parametrize("sql, reason", [
    ("DELETE FROM big", "Not run: DELETE modifies data: EXPLAIN ANALYZE of writes is allowed only when the configuration "
                        "allows it (setting allow_analyze_writes, or PGPULSE_ALLOW_ANALYZE_WRITES=true)"),
    ("DROP TABLE big", "Not run: DROP TABLE is not allowed"),
    ("SELECT 1; DROP TABLE big", "Not run: 2 statements"),
    ("SELEC * FROM big", "Not run: syntax error"),
])
def test_refused_statements_say_why_clear_the_plan_and_lose_nothing(explain_env, sql, reason):
    app = explain_sql(run_page(PAGE), "SELECT * FROM big WHERE v = 42")
    assert app.dataframe and not app.error
    explain_sql(app, sql)
    assert not app.exception
    assert [error.value for error in app.error] == [error.value for error in app.error if error.value.startswith(reason)]
    assert len(app.error) == 1, [error.value for error in app.error]
    assert "unavailable" not in app.error[0].value
    assert not app.dataframe and not app.metric and not app.warning  # the earlier plan is not shown as this one's
    assert row_count(explain_env) == 40000


def test_two_runs_are_compared_before_and_after_an_index(explain_env):
    app = explain_sql(run_page(PAGE), "SELECT * FROM big WHERE v = 42")
    with psycopg.connect(explain_env, autocommit=True) as conn:
        conn.execute("CREATE INDEX big_v ON big (v)")
        conn.execute("ANALYZE big")
    app.button(key="e_run").click().run()
    assert not app.exception
    comparison = app.dataframe[-1].value.set_index("Figure")
    assert list(comparison.columns) == ["Before", "After", "Change"]
    assert comparison.loc["Rows returned"].tolist()[:2] == ["80", "80"]
    assert comparison.loc["Plan nodes", "Change"] in ("no change", "+100 %", "+50 %", "−50 %")
    assert comparison.loc["Execution time", "Before"].endswith(("ms", " s"))
    assert not comparison.isin(["None", "nan", "NaN"]).any().any()
    changes = [element.value for element in app.markdown if element.value.startswith("- Only in")]
    assert "- Only in Before: `Seq Scan on big`" in changes
    assert any(change.startswith("- Only in After: `") and "big_v" in change for change in changes), changes


def test_statement_arrives_from_the_queries_link(explain_env):
    from streamlit.testing.v1 import AppTest

    from tests.test_app import APP

    app = AppTest.from_file(APP, default_timeout=60)
    app.query_params["sql"] = "SELECT count(*) FROM big WHERE id < $1"
    app.run()
    app.switch_page(PAGE).run()
    assert app.text_area(key="explain_sql").value == "SELECT count(*) FROM big WHERE id < $1"
    assert app.text_input(key="e_param_0").value == ""
    assert app.checkbox(key="e_analyze").value  # ANALYZE is on, the value box empty: the generic plan, and why
    app.button(key="e_run").click().run()
    assert not app.exception and not app.error, [error.value for error in app.error]
    notes = [info.value for info in app.info]
    assert notes == ["ANALYZE runs the statement: give a value for each of $1..$1 to see real times and rows. "
                     "Shown: the generic plan, with estimates only."]
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Execution time"] == "not run" and metrics["Rows"] == "–"
    assert "$1" in " ".join(app.dataframe[0].value["Index condition" if "Index condition" in app.dataframe[0].value
                                                   else "Filter"])
    app.text_input(key="e_param_0").input("1001")
    app.button(key="e_run").click().run()
    assert not app.info and not app.error
    assert {metric.label: metric.value for metric in app.metric}["Rows"] == "1"  # count(*) of ids below 1001


def test_node_table_reads_in_words_and_a_one_node_plan_has_no_chart(explain_env):
    app = explain_sql(run_page(PAGE), "SELECT * FROM big WHERE v = 42")
    table = app.dataframe[0].value
    assert {"Node", "Flags", "Own time", "Total time", "Rows (actual, per loop)", "Rows (estimated)",
            "Suggested index"} <= set(table.columns)
    assert not any(column.islower() and "_" in column for column in table.columns)
    assert not table.isin(["None", "nan", "NaN", "<NA>"]).any().any()
    scan = table[table["Node"].str.endswith("Seq Scan on big")].iloc[0]
    assert scan["Rows (actual, per loop)"] == "80" and scan["Suggested index"] == "CREATE INDEX ON big (v)"
    assert scan["Own time"].endswith(("ms", " s")) and scan["Own time"] != "–"
    assert len(table) == 1 and not app.get("plotly_chart")  # a one-node plan: its figures are the headline's


def test_a_plan_of_several_nodes_has_its_charts(explain_env):
    app = explain_sql(run_page(PAGE), "SELECT v, count(*) FROM big GROUP BY v ORDER BY 2 DESC LIMIT 20")
    assert not app.exception and not app.error
    assert len(app.get("plotly_chart")) == 2
    nodes = app.dataframe[0].value["Node"].tolist()
    assert nodes[0] == "Limit" and nodes[1] == "\u2003↳ Sort"
