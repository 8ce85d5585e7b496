"""Explain: paste one statement, see where its time goes, compare runs."""
import json

import streamlit as st

from dashboard.charts import plan_icicle, top_nodes_bar
from dashboard.components import panel, table_with_csv
from dashboard.data import engine_for, settings
from dashboard.formatting import human_duration
from dashboard.sidebar import current
from queries.connection import server_version_num
from queries.errors import PgPulseError
from queries.explain import ExplainOptions, check_statement, explain
from queries.plan import compare_plans

context = current()
engine = engine_for(context.target.database_url, settings().pool_size)
MAX_RUNS = 10
NODE_COLUMNS = ["node_id", "label", "flags", "exclusive_ms", "inclusive_ms", "percent_of_total", "actual_rows",
                "plan_rows", "actual_loops", "misestimate_factor", "misestimate_direction", "shared_hit_blocks",
                "shared_read_blocks", "temp_read_blocks", "temp_written_blocks", "io_read_ms", "rows_removed_by_filter",
                "removed_percent", "heap_fetches", "sort_method", "sort_space_kb", "hash_batches", "filter",
                "index_cond", "index_suggestion"]

st.title("Explain")
if "sql" in st.query_params and "explain_sql" not in st.session_state:
    st.session_state["explain_sql"] = st.query_params["sql"]  # opened from the Queries page's Explain link
sql = st.text_area("One statement (SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE)", height=160,
                   key="explain_sql", placeholder="Paste a statement from the Queries page or your application's log")


def read_options(version: int) -> tuple[ExplainOptions, list[str] | None]:
    columns = st.columns(7)
    analyze = columns[0].checkbox("ANALYZE", value=True, key="e_analyze", help="runs the statement (rolled back)")
    buffers = columns[1].checkbox("BUFFERS", value=True, key="e_buffers")
    verbose = columns[2].checkbox("VERBOSE", key="e_verbose")
    with_settings = columns[3].checkbox("SETTINGS", key="e_settings")
    wal = columns[4].checkbox("WAL", key="e_wal", disabled=not analyze)
    serialize = columns[5].checkbox("SERIALIZE", key="e_serialize", disabled=version < 170000 or not analyze,
                                    help="PostgreSQL 17+")
    timeout_s = columns[6].number_input("Timeout (s)", 1, 600, 10, key="e_timeout")
    params = parameter_values(analyze)
    return ExplainOptions(analyze=analyze, buffers=buffers, verbose=verbose, settings=with_settings,
                          wal=wal and analyze, serialize=serialize and analyze, timeout_ms=int(timeout_s) * 1000,
                          analyze_writes=settings().allow_analyze_writes), params


def parameter_values(analyze: bool) -> list[str] | None:
    """$1.. values for ANALYZE; without ANALYZE the generic plan needs none."""
    try:
        check = check_statement(sql) if sql.strip() else None
    except PgPulseError:
        return None  # explain() reports the problem when run
    if not check or not check.has_parameters:
        return None
    if not analyze:
        st.caption(f"{check.parameter_count} parameters: the generic plan is shown (no values needed).")
        return None
    columns = st.columns(min(check.parameter_count, 6))
    return [columns[index % 6].text_input(f"${index + 1}", key=f"e_param_{index}")
            for index in range(check.parameter_count)]


def run(options: ExplainOptions, params: list[str] | None) -> None:
    result = explain(engine, sql, options, params)
    runs = st.session_state.setdefault("explain_runs", [])
    runs.append({"label": f"run {len(runs) + 1}: {' '.join(sql.split())[:60]}", "result": result})
    del runs[:-MAX_RUNS]


def headline(result) -> None:
    summary = result.summary
    columns = st.columns(5)
    columns[0].metric("Planning", human_duration((summary.planning_ms or 0) / 1000))
    columns[1].metric("Execution", "not run" if summary.execution_ms is None else human_duration(summary.execution_ms / 1000))
    columns[2].metric("Shared blocks hit / read", f"{summary.total_shared_hit_blocks:,} / {summary.total_shared_read_blocks:,}")
    columns[3].metric("Rows", "–" if summary.root_rows is None else f"{summary.root_rows:,.0f}")
    columns[4].metric("Flagged nodes", f"{summary.flagged_node_count} of {summary.node_count}")


def show(result) -> None:
    headline(result)
    st.plotly_chart(plan_icicle(result.nodes), key="e_icicle")
    st.plotly_chart(top_nodes_bar(result.nodes), key="e_top")
    flagged = result.nodes[result.nodes["flags"].map(bool)]
    for row in flagged.itertuples():
        st.warning(f"#{row.node_id} {row.label}: {'; '.join(row.flags)}"
                   + (f" — `{row.index_suggestion}`" if row.index_suggestion else ""), icon=":material/flag:")
    table_with_csv(result.nodes[[c for c in NODE_COLUMNS if c in result.nodes]], "plan_nodes")
    st.download_button("Download plan.json", json.dumps(result.plan_json, indent=2), file_name="plan.json",
                       mime="application/json", on_click="ignore", icon=":material/download:")
    with st.expander("Text plan", expanded=False):
        st.code(result.text_plan, language="text")


def compare(runs: list[dict]) -> None:
    labels = [item["label"] for item in runs]
    left, right = st.columns(2)
    before = left.selectbox("Before", labels, index=len(labels) - 2, key="e_before")
    after = right.selectbox("After", labels, index=len(labels) - 1, key="e_after")
    pick = {item["label"]: item["result"] for item in runs}
    table_with_csv(compare_plans(pick[before], pick[after]), "plan_comparison")


with panel():
    options, params = read_options(server_version_num(engine))
    if st.button("Explain", type="primary", disabled=not sql.strip(), key="e_run"):
        run(options, params)
runs = st.session_state.get("explain_runs", [])
if runs:
    with panel(f"Plan — {runs[-1]['label']}"):
        show(runs[-1]["result"])
if len(runs) >= 2:
    with panel("Compare two runs"):
        compare(runs)
