"""Indexes: the ones to drop, the ones that are broken, and the ones that are missing."""
import streamlit as st

from dashboard.components import panel, read_age_caption, refresh_now_button, rerun_if_unreachable, table_with_csv
from dashboard.data import load
from dashboard.formatting import human_duration, percent
from dashboard.history import advice_over_range, history_note
from dashboard.sidebar import current
from dashboard.size_panels import unused_over_range
from queries.advisors.drops import hypopg_status, what_if_drop
from queries.advisors.indexes import suggested_indexes
from queries.indexes import duplicate_indexes, index_hit_rates, index_hit_ratio, invalid_indexes, seq_scan_tables, unused_indexes

context = current()
st.title("Indexes")
refresh_now_button(context.target, "i_refresh")
left, right = st.columns(2)
max_scans = left.number_input("Unused: at most this many scans", 0, 10**9, 0, key="i_max_scans")
min_rows = right.number_input("Sequential-scan tables: at least this many rows", 0, 10**12, 10_000, step=1000,
                              key="i_min_rows")
# the fix right after the names, so it is on screen without scrolling sideways
FIX_FIRST = ["schema_name", "table_name", "index_name", "fix_sql", "size_bytes", "reason"]


def unused() -> None:
    frame = load(unused_indexes, context, max_scans=int(max_scans))
    reset = frame["stats_reset_seconds"].dropna()
    if not reset.empty and reset.iloc[0] < 7 * 86_400:
        st.warning(f"Statistics were reset {human_duration(reset.iloc[0])} ago: an index used weekly or monthly "
                   "can look unused. Wait for a full business cycle before dropping.", icon=":material/warning:")
    table_with_csv(frame, "unused_indexes", first=FIX_FIRST)
    read_age_caption(unused_indexes, context, max_scans=int(max_scans))


@st.fragment(run_every=context.run_every)
def indexes_page() -> None:
    rerun_if_unreachable(context)
    with panel("Unused indexes"):
        unused()
    not_scanned_over_the_range()
    with panel("Duplicate and redundant indexes"):
        table_with_csv(load(duplicate_indexes, context), "duplicate_indexes",
                       first=FIX_FIRST, empty="No index duplicates or is covered by another.")
    with panel("Invalid indexes"):
        table_with_csv(load(invalid_indexes, context), "invalid_indexes",
                       first=FIX_FIRST, empty="No invalid index (a failed CREATE INDEX CONCURRENTLY leaves one).")
    with panel("Tables by rows read sequentially (missing-index candidates)"):
        table_with_csv(load(seq_scan_tables, context, min_rows=int(min_rows)), "seq_scan_tables",
                       first=["schema_name", "table_name", "seq_tup_read_per_second", "seq_tup_read", "seq_scan_ratio",
                              "fix_sql", "estimated_rows"],
                       empty=f"No table of {int(min_rows):,} rows or more is read mostly or many times over by "
                             "sequential scans.")
    with panel("Index hit rate"):
        st.metric("Index blocks found in the buffer cache",
                  percent(load(index_hit_ratio, context), 2))
        table_with_csv(load(index_hit_rates, context), "index_hit_rates")


def not_scanned_over_the_range() -> None:
    """Beside the since-reset list: the indexes not scanned over the sidebar's range, from the collector's counts."""
    with panel(f"Not scanned over the {context.time_range.label}" if context.time_range else "Not scanned over time"):
        if note := history_note(context):
            st.caption(note)
        else:
            unused_over_range(context)


def index_suggestions() -> None:
    """Indexes the statements taking the time would use, as text (never created), checked by HypoPG when installed."""
    with panel("Suggested indexes"):
        if history_note(context):  # no history: the statements since the statistics reset
            frame = load(suggested_indexes, context)
        else:
            st.caption(f"From the statements that ran during the {context.time_range.label} (the collector's deltas).")
            frame = advice_over_range(suggested_indexes, context)
        if frame.empty:
            st.caption("No index to suggest: the statements taking the time filter on indexed columns or small tables.")
            return
        # HypoPG's numbers only when it gave some: columns of "None" explain nothing
        costed = ["cost_before", "cost_after", "time_saved_ms", "estimated_size_bytes"] if frame["verified"].any() else []
        # a partial index is costed against the full one: its figures beside the partial's
        costed += ["full_index_cost_after", "full_index_size_bytes"] if frame["full_index_cost_after"].notna().any() else []
        if not costed:
            st.caption("Not verified: install the hypopg extension (CREATE EXTENSION hypopg) to have each suggestion "
                       "costed against the planner.")
        table_with_csv(frame, "suggested_indexes", column_order=[
            "create_index", "table_name", "statements", *costed, "reason", "writes_per_second", "queries"])


def what_if_drops() -> None:
    """Each unused or duplicate index hidden from the planner (HypoPG 1.4+): would any statement's plan get worse?"""
    with panel("What-if drop"):
        status = load(hypopg_status, context)
        if status.note:
            st.caption(status.note)
            return
        table_with_csv(load(what_if_drop, context), "what_if_drop",
                       first=["schema_name", "table_name", "index_name", "verdict", "flagged_as"],
                       empty="No unused or duplicate index to re-plan without.")


indexes_page()
index_suggestions()
what_if_drops()
