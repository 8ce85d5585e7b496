"""Explain: paste one statement, see where its time goes, compare runs."""
import json
from dataclasses import replace

import pandas as pd
import streamlit as st

from dashboard.charts import plan_icicle, top_nodes_bar
from dashboard.components import panel, unreachable_message
from dashboard.data import engine_for, settings
from dashboard.formatting import human_duration, shorten
from dashboard.sidebar import current
from queries.connection import server_version_num
from queries.errors import PgPulseError, UnreachableError
from queries.explain import ExplainOptions, ExplainRefused, check_statement, explain
from queries.plan import compare_plans, flagged_nodes, node_changes

context = current()
engine = engine_for(context.target.database_url, settings().pool_size)
MAX_RUNS = 10
# the CSV keeps the data layer's names and raw numbers; the table shows the same nodes in words
NODE_COLUMNS = ["node_id", "label", "flags", "exclusive_ms", "inclusive_ms", "percent_of_total", "actual_rows",
                "plan_rows", "actual_loops", "misestimate_factor", "misestimate_direction", "stopped_by_limit",
                "shared_hit_blocks", "shared_read_blocks", "temp_read_blocks", "temp_written_blocks", "io_read_ms",
                "rows_removed_by_filter", "removed_percent", "heap_fetches", "sort_method", "sort_space_kb", "hash_batches",
                "total_cost", "filter", "index_cond", "index_suggestion", "index_advice"]
# compared figure -> its name in words, and whether it is a time in ms (else a count)
COMPARED = {"execution_ms": ("Execution time", True), "planning_ms": ("Planning time", True),
            "total_ms": ("Planning + execution time", True), "root_rows": ("Rows returned", False),
            "total_shared_hit_blocks": ("Shared blocks hit (8 kB each)", False),
            "total_shared_read_blocks": ("Shared blocks read (8 kB each)", False),
            "total_temp_blocks": ("Temp blocks read + written", False), "node_count": ("Plan nodes", False),
            "flagged_node_count": ("Flagged nodes", False)}
MISSING = "–"


def _missing(value) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and value != value)


def ms(value) -> str:
    return MISSING if _missing(value) else human_duration(float(value) / 1000)


def count(value) -> str:
    """12,345 for whole numbers; per-loop averages (PostgreSQL 18 prints 0.50 rows) keep two decimals."""
    if _missing(value):
        return MISSING
    return f"{value:,.0f}" if float(value).is_integer() else f"{value:,.2f}"


def text(value) -> str:
    return "" if _missing(value) else str(value)


st.title("Explain")


def restore_statement() -> None:
    """The statement box's text: the one from the Queries page's Explain link, or what this viewer pasted before the
    page was last left or became the server-down banner (Streamlit forgets a widget's value when it is not drawn)."""
    if "explain_sql" in st.session_state:
        return
    link, kept = st.query_params.get("sql"), st.session_state.get("explain_kept")
    if kept and kept["link"] == link:
        st.session_state["explain_sql"] = kept["sql"]
    elif link:
        st.session_state["explain_sql"] = link  # opened from the Queries page's Explain link


restore_statement()


def read_options(version: int) -> ExplainOptions:
    columns = st.columns(7)
    analyze = columns[0].checkbox("ANALYZE", value=True, key="e_analyze",
                                  help="runs the statement (rolled back) and reports real times and rows")
    buffers = columns[1].checkbox("BUFFERS", value=True, key="e_buffers")
    verbose = columns[2].checkbox("VERBOSE", key="e_verbose")
    with_settings = columns[3].checkbox("SETTINGS", key="e_settings")
    wal = columns[4].checkbox("WAL", key="e_wal", help="with ANALYZE only")
    serialize = columns[5].checkbox("SERIALIZE", key="e_serialize", disabled=version < 170000,
                                    help="PostgreSQL 17+, with ANALYZE only")
    timeout_s = columns[6].number_input("Timeout (s)", 1, 600, 10, key="e_timeout")
    return ExplainOptions(analyze=analyze, buffers=buffers, verbose=verbose, settings=with_settings,
                          wal=wal and analyze, serialize=serialize and analyze, timeout_ms=int(timeout_s) * 1000,
                          analyze_writes=settings().allow_analyze_writes)


def parameter_values(sql: str) -> list[str] | None:
    """A box per $1.. of the statement (as last sent): values for ANALYZE; left empty, the generic plan is shown."""
    try:
        check = check_statement(sql) if sql.strip() else None
    except PgPulseError:
        return None  # explain() reports the problem when run
    if not check or not check.has_parameters:
        return None
    names = "$1" if check.parameter_count == 1 else f"$1..${check.parameter_count}"
    st.caption(f"Values for {names}: ANALYZE runs the statement with them; left empty, the generic plan (estimates only) "
               "is shown.")
    columns = st.columns(min(check.parameter_count, 6))
    return [columns[index % 6].text_input(f"${index + 1}", key=f"e_param_{index}")
            for index in range(check.parameter_count)]


def run(sql: str, options: ExplainOptions, params: list[str] | None) -> None:
    """Explain and keep the run; a refusal or failure is kept instead, so no earlier plan reads as this one's."""
    st.session_state["explain_outcome"] = None
    try:
        options, params, note = without_missing_values(sql, options, params)
        result = explain(engine, sql, options, params)
    except ExplainRefused as exc:
        st.session_state["explain_outcome"] = {"refused": f"Not run: {exc}"}
        return
    except UnreachableError as exc:  # it went away since the page was drawn: the banner's words
        st.session_state["explain_outcome"] = {"failed": unreachable_message(context.target, exc)}
        return
    except PgPulseError as exc:
        st.session_state["explain_outcome"] = {"failed": str(exc)}
        return
    runs = st.session_state.setdefault("explain_runs", [])
    number = runs[-1]["number"] + 1 if runs else 1
    runs.append({"number": number, "label": f"run {number}: {shorten(sql, 70)}", "result": result})
    del runs[:-MAX_RUNS]
    st.session_state["explain_outcome"] = {"plan": runs[-1], "note": note}


def without_missing_values(sql: str, options: ExplainOptions, params: list[str] | None):
    """ANALYZE with a $n value box left empty: the generic plan instead, and a note saying what ANALYZE needs."""
    check = check_statement(sql)
    if not check.has_parameters or (params and all(value != "" for value in params)):
        return options, params, None
    if not options.analyze:
        return options, None, None
    note = (f"ANALYZE runs the statement: give a value for each of $1..${check.parameter_count} to see real times and "
            "rows. Shown: the generic plan, with estimates only.")
    return replace(options, analyze=False, wal=False, serialize=False), None, note


def what_ran(result) -> str:
    options = result.options
    words = [name for name in ("analyze", "buffers", "verbose", "settings", "wal", "serialize") if getattr(options, name)]
    generic = " · generic plan (no values: estimates only)" if options.generic_plan else ""
    return f"EXPLAIN ({', '.join(word.upper() for word in words) or 'plan only'}) of a {result.statement_kind}{generic}"


def headline(result) -> None:
    summary = result.summary
    columns = st.columns(5)
    columns[0].metric("Planning time", ms(summary.planning_ms))
    columns[1].metric("Execution time", "not run" if summary.execution_ms is None else ms(summary.execution_ms))
    columns[2].metric("Shared blocks hit / read",
                      f"{count(summary.total_shared_hit_blocks)} / {count(summary.total_shared_read_blocks)}")
    columns[3].metric("Rows", count(summary.root_rows))
    columns[4].metric("Flagged nodes", f"{summary.flagged_node_count} of {summary.node_count}")
    st.caption(what_ran(result))


def estimate_off(row) -> str:
    if _missing(row.misestimate_factor) or _missing(row.misestimate_direction):
        return MISSING  # not run, or estimated exactly
    note = " (stopped early by a Limit)" if row.stopped_by_limit and row.misestimate_direction == "over" else ""
    return f"{row.misestimate_factor:,.0f}x {row.misestimate_direction}{note}"


def sort_text(row) -> str:
    if _missing(row.sort_method):
        return ""
    space = "" if _missing(row.sort_space_kb) else f", {row.sort_space_kb:,} kB"
    return f"{row.sort_method}{space}" + (" on disk" if row.sort_space_type == "Disk" else "")


def node_table(nodes: pd.DataFrame) -> pd.DataFrame:
    """The nodes in words, in plan order, indented by depth; columns with nothing to say are left out."""
    rows = [{
        "Node": "\u2003" * row.depth + ("↳ " if row.depth else "") + row.label, "Flags": "; ".join(row.flags),
        "Own time": ms(row.exclusive_ms), "Total time": ms(row.inclusive_ms),
        "Share of time": MISSING if _missing(row.percent_of_total) else f"{row.percent_of_total:.1f} %",
        "Rows (actual, per loop)": count(row.actual_rows), "Rows (estimated)": count(row.plan_rows),
        "Estimate off by": estimate_off(row), "Loops": count(row.actual_loops),
        "Shared blocks hit": count(row.shared_hit_blocks), "Shared blocks read": count(row.shared_read_blocks),
        "Temp blocks read": count(row.temp_read_blocks), "Temp blocks written": count(row.temp_written_blocks),
        "I/O read time": ms(row.io_read_ms), "Rows removed by filter": count(row.rows_removed_by_filter),
        "Removed by filter": MISSING if _missing(row.removed_percent) else f"{row.removed_percent:.0f} %",
        "Heap fetches": count(row.heap_fetches), "Sort": sort_text(row), "Hash batches": count(row.hash_batches),
        "Estimated cost": count(row.total_cost), "Filter": text(row.filter),
        "Index condition": text(row.index_cond), "Suggested index": text(row.index_suggestion),
        "Index advice": text(row.index_advice),
    } for row in nodes.itertuples()]
    table = pd.DataFrame(rows)
    return table[[column for column in table if (~table[column].isin([MISSING, ""])).any() or column == "Node"]]


def table_and_csv(shown: pd.DataFrame, raw: pd.DataFrame, name: str) -> None:
    """The table in words; the download keeps the raw figures under their data-layer names (both masked there)."""
    st.dataframe(shown, hide_index=True)
    st.download_button(f"Download {name}.csv", raw.to_csv(index=False).encode(), file_name=f"{name}.csv",
                       mime="text/csv", key=f"csv_{name}", icon=":material/download:", on_click="ignore")


def show(result) -> None:
    headline(result)
    nodes = result.nodes
    if len(nodes) > 1:  # one node: its figures are the headline's, a chart would say nothing more
        st.plotly_chart(plan_icicle(nodes), key="e_icicle")
        st.plotly_chart(top_nodes_bar(nodes), key="e_top")
    for row in flagged_nodes(nodes).itertuples():
        suggestion = f" — `{row.index_suggestion}`" if isinstance(row.index_suggestion, str) else ""
        suggestion += f" ({row.index_advice})" if isinstance(row.index_advice, str) else ""
        st.warning(f"#{row.node_id} {row.label}: {'; '.join(row.flags)}{suggestion}", icon=":material/flag:")
    table_and_csv(node_table(nodes), nodes[[c for c in NODE_COLUMNS if c in nodes]], "plan_nodes")
    st.download_button("Download plan.json", json.dumps(result.plan_json, indent=2), file_name="plan.json",
                       mime="application/json", on_click="ignore", icon=":material/download:")
    with st.expander("Text plan", expanded=False):
        st.code(result.text_plan, language="text")


def change_text(before: float, after: float, ratio: float) -> str:
    """+12 % / −58 %; the same figure (0 and 0 too) reads "no change"."""
    if not _missing(before) and before == after:
        return "no change"
    if _missing(ratio):
        return "new" if before == 0 and not _missing(after) else MISSING
    return "no change" if abs(ratio - 1) < 0.0005 else f"{(ratio - 1) * 100:+,.0f} %".replace("-", "−")


def comparison_table(frame: pd.DataFrame) -> pd.DataFrame:
    rows = []
    for row in frame.itertuples():
        name, is_time = COMPARED[row.metric]
        form = ms if is_time else count
        rows.append({"Figure": name, "Before": form(row.before), "After": form(row.after),
                     "Change": change_text(row.before, row.after, row.change_ratio)})
    return pd.DataFrame(rows)


def compare(runs: list[dict]) -> None:
    labels = [item["label"] for item in runs]
    left, right = st.columns(2)
    before = left.selectbox("Before", labels, index=len(labels) - 2, key="e_before")
    after = right.selectbox("After", labels, index=len(labels) - 1, key="e_after")
    pick = {item["label"]: item["result"] for item in runs}
    frame = compare_plans(pick[before], pick[after])
    table_and_csv(comparison_table(frame), frame, "plan_comparison")
    changes = node_changes(pick[before], pick[after])
    if changes.empty:
        st.caption("The same plan nodes in both runs.")
    for row in changes.itertuples():
        st.markdown(f"- {'Only in After' if row.change == 'added' else 'Only in Before'}: `{row.label}`")


with panel():
    with st.form("e_form", border=False, enter_to_submit=False):
        # a form sends the pasted text with the click: a text area alone applies only on blur
        sql = st.text_area("One statement (SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE)", height=160,
                           key="explain_sql", placeholder="Paste a statement from the Queries page or your application's log")
        options = read_options(server_version_num(engine))
        params = parameter_values(sql)
        submitted = st.form_submit_button("Explain", type="primary", key="e_run")
    st.session_state["explain_kept"] = {"sql": sql, "link": st.query_params.get("sql")}
    if submitted and not sql.strip():
        st.info("Paste a statement first.", icon=":material/info:")
    elif submitted:
        run(sql, options, params)
outcome = st.session_state.get("explain_outcome")
if outcome and "refused" in outcome:
    st.error(outcome["refused"], icon=":material/block:")
elif outcome and "failed" in outcome:
    st.error(outcome["failed"], icon=":material/error:")
elif outcome:
    with panel(f"Plan of run {outcome['plan']['number']}"):
        if outcome["note"]:
            st.info(outcome["note"], icon=":material/info:")
        show(outcome["plan"]["result"])
runs = st.session_state.get("explain_runs", [])
if len(runs) >= 2:
    with panel("Compare two runs"):
        compare(runs)
