"""Queries: the statements that cost the most, and the N+1 patterns among them."""
from urllib.parse import urlencode

import streamlit as st

from dashboard.charts import METRIC_LABELS, calls_vs_mean_scatter, top_statements_bar
from dashboard.components import panel, rerun_if_unreachable, table_with_csv
from dashboard.data import load
from dashboard.sidebar import current
from queries.statements import SORT_COLUMNS, hidden_statement_count, statements, statements_status

context = current()
st.title("Queries")

left, middle, right = st.columns([2, 1, 1])
sort_by = left.selectbox("Sort by", SORT_COLUMNS, format_func=METRIC_LABELS.get, key="q_sort")
top_n = middle.slider("Chart top N", 5, 50, 15, key="q_top_n")
limit = right.number_input("Rows in table", 10, 1000, 100, step=10, key="q_limit")
left, middle, right = st.columns([2, 1, 1])
text = left.text_input("Statement text contains", key="q_text")
user = middle.text_input("User", key="q_user")
min_calls = right.number_input("Minimum calls", 0, 10**9, 0, key="q_min_calls")
left, right = st.columns(2)
include_nested = left.toggle("Include statements nested in functions and DDL (track = all)", key="q_nested",
                             help="their time is also in the statement that ran them")
include_own = right.toggle("Include pgpulse's own monitoring statements", key="q_own",
                           help="marked /* pgpulse */ in their text")

COLUMNS = {
    "query": st.column_config.TextColumn("Statement", width="large"),
    "total_exec_time_ms": st.column_config.NumberColumn("Total ms", format="%.1f"),
    "mean_exec_time_ms": st.column_config.NumberColumn("Mean ms", format="%.3f"),
    "max_exec_time_ms": st.column_config.NumberColumn("Max ms", format="%.1f"),
    "total_plan_time_ms": st.column_config.NumberColumn("Plan ms", format="%.1f"),
    "rows_per_call": st.column_config.NumberColumn("Rows/call", format="%.1f"),
    "hit_ratio": st.column_config.ProgressColumn("Hit ratio", min_value=0.0, max_value=1.0, format="percent"),
    "io_time_ms": st.column_config.NumberColumn("I/O ms", format="%.1f"),
    "percent_of_total_time": st.column_config.NumberColumn("% of time", format="%.1f"),
}


# what a reader scans first; the CSV keeps every column
TABLE_ORDER = ["query", "calls", "total_exec_time_ms", "mean_exec_time_ms", "max_exec_time_ms", "percent_of_total_time",
               "rows_per_call", "hit_ratio", "io_time_ms", "total_plan_time_ms", "rows", "shared_blks_hit",
               "shared_blks_read", "temp_blks_written", "wal_bytes", "user_name", "toplevel", "queryid"]


@st.fragment(run_every=context.run_every)
def queries_page() -> None:
    rerun_if_unreachable(context)
    with panel():
        # the data layer has masked PASSWORD literals that utility statements keep
        frame = load(statements, context, sort_by=sort_by, user=user.strip() or None,
                     min_calls=int(min_calls), text=text.strip() or None, limit=int(limit),
                     include_nested=include_nested, include_own=include_own)
        hidden = hidden_statement_count(frame)
        if hidden:
            note = load(statements_status, context).privilege_note
            st.info(f"{hidden} statements are hidden: {note}", icon=":material/lock:")
        st.plotly_chart(top_statements_bar(frame, sort_by, top_n), key="q_bar")
        st.plotly_chart(calls_vs_mean_scatter(frame), key="q_scatter")
        st.caption(f"{len(frame)} statements, sorted by {METRIC_LABELS[sort_by].lower()}")
        if planning_note := load(statements_status, context).planning_note:
            st.caption(f"Plan ms: {planning_note}")
        # relative link: opens the Explain page (also behind a reverse proxy's base path) with the text filled in
        explain_links = ["explain?" + urlencode({"sql": query}) for query in frame["query"]]
        table_with_csv(frame, "statements", column_config=COLUMNS, column_order=TABLE_ORDER,
                       links={"explain": explain_links})


queries_page()
