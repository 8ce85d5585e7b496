"""Queries: the statements that cost the most, and the N+1 patterns among them."""
from urllib.parse import urlencode

import streamlit as st

from dashboard.charts import METRIC_LABELS, calls_vs_mean_scatter, top_statements_bar
from dashboard.columns import progress
from dashboard.components import panel, rerun_if_unreachable, table_with_csv, tag_columns
from dashboard.data import load
from dashboard.history import advice_over_range, history_note
from dashboard.history_panels import statements_over_range_table
from dashboard.sidebar import current
from queries.advisors.n_plus_one import n_plus_one
from queries.statements import SORT_COLUMNS, hidden_statement_count, statements, statements_status

context = current()
st.title("Queries")

# the table comes within the first screen: the everyday controls in one row, the rest folded away
left, middle, right = st.columns([2, 2, 1])
sort_by = left.selectbox("Sort by", SORT_COLUMNS, format_func=METRIC_LABELS.get, key="q_sort")
text = middle.text_input("Statement text contains", key="q_text")
limit = right.number_input("Rows in table", 10, 1000, 100, step=10, key="q_limit")
with st.expander("More filters"):
    left, middle, right = st.columns([2, 1, 1])
    user = left.text_input("User", key="q_user")
    min_calls = middle.number_input("Minimum calls", 0, 10**9, 0, key="q_min_calls")
    top_n = right.slider("Chart top N", 5, 50, 15, key="q_top_n")
    route = st.text_input("Route (sqlcommenter tag)", key="q_route", help="only the statements whose comment says "
                          "route='...' with this route, e.g. /feed").strip() or None
    left, right = st.columns(2)
    include_nested = left.toggle("Include statements nested in functions and DDL (track = all)", key="q_nested",
                                 help="their time is also in the statement that ran them")
    include_own = right.toggle("Include pgpulse's own monitoring statements", key="q_own",
                               help="marked /* pgpulse */ in their text")

COLUMNS = {"hit_ratio": progress("hit_ratio")}
OVER_RANGE, SINCE_RESET = "Over the time range", "Since the last statistics reset"
# with history, what ran in the sidebar's range (from the collector's deltas) comes first; pg_stat_statements' own
# figures since its reset stay one click away
history_missing = history_note(context)
if history_missing:
    figures = SINCE_RESET
    st.caption(history_missing)
else:
    figures = st.radio("Figures", [OVER_RANGE, SINCE_RESET], horizontal=True, key="q_figures",
                       label_visibility="collapsed")


# what a reader scans first; the CSV keeps every column
TABLE_ORDER = ["query", "calls", "total_exec_time_ms", "mean_exec_time_ms", "max_exec_time_ms", "percent_of_total_time",
               "rows_per_call", "hit_ratio", "io_time_ms", "total_plan_time_ms", "rows", "shared_blks_hit",
               "shared_blks_read", "temp_blks_written", "wal_bytes", "user_name", "toplevel", "queryid"]


@st.fragment(run_every=context.run_every)
def queries_page() -> None:
    rerun_if_unreachable(context)
    planning_note = None
    with panel("Planning time", heading=False):
        planning_note = load(statements_status, context).planning_note
    if figures == OVER_RANGE and not history_missing:
        with panel():
            planning_caption(planning_note)
            statements_over_range_table(context, sort_by=sort_by, limit=int(limit), include_nested=include_nested,
                                        include_own=include_own, text=text.strip() or None, route=route)
        return
    with panel():
        # the data layer has masked PASSWORD literals that utility statements keep
        frame = load(statements, context, sort_by=sort_by, user=user.strip() or None,
                     min_calls=int(min_calls), text=text.strip() or None, limit=int(limit),
                     include_nested=include_nested, include_own=include_own, route=route)
        hidden = hidden_statement_count(frame)
        if hidden:
            note = load(statements_status, context).privilege_note
            st.info(f"{hidden} statements are hidden: {note}", icon=":material/lock:")
        st.caption(f"{len(frame):,} statements, sorted by {METRIC_LABELS[sort_by].lower()}")
        planning_caption(planning_note)
        # relative link: opens the Explain page (also behind a reverse proxy's base path) with the text filled in
        explain_links = ["explain?" + urlencode({"sql": query}) for query in frame["query"]]
        table_with_csv(frame, "statements", column_config=COLUMNS,
                       column_order=TABLE_ORDER[:1] + tag_columns(frame) + TABLE_ORDER[1:],
                       links={"explain": explain_links}, height=420,
                       notes={"total_plan_time_ms": planning_note} if planning_note else None)
        left, right = st.columns(2)
        left.plotly_chart(top_statements_bar(frame, sort_by, top_n), key="q_bar")
        right.plotly_chart(calls_vs_mean_scatter(frame), key="q_scatter")


def planning_caption(note: str | None) -> None:
    """Why the Planning time column reads 0, said once above the table in either view (and on the column's help)."""
    if note:
        st.caption(note)


def n_plus_one_suspects() -> None:
    """Key lookups called once per row of another statement, with the loader option that batches them."""
    with panel("N+1 suspects"):
        if history_missing:
            frame = load(n_plus_one, context)
        else:  # the calls of the sidebar's range, as the table above shows them by default
            st.caption(f"From the calls made during the {context.time_range.label} (the collector's deltas).")
            frame = advice_over_range(n_plus_one, context)
        if frame.empty:
            st.caption("No statement looks like an N+1 loop: no key lookup is called many times per call of a "
                       "statement reading the table its foreign key links.")
            return
        tagged = ["route"] if frame["route"].notna().any() else []  # sqlcommenter tags, when the application writes them
        table_with_csv(frame, "n_plus_one", column_order=[
            "loader_option", "foreign_key", "calls", "calls_per_parent_call", "query", "parent_query", *tagged, "hint"])


queries_page()
n_plus_one_suspects()
