"""Panels that read the history store, shared by the pages that show a time range."""
from __future__ import annotations

from urllib.parse import urlencode

import pandas as pd
import streamlit as st

from dashboard.columns import progress
from dashboard.components import table_with_csv, tag_columns
from dashboard.data import settings
from dashboard.formatting import human_duration, sparkline
from dashboard.history import bucket_of, range_read, setting_markers
from dashboard.history_charts import series_chart
from dashboard.load_panels import overview_load
from queries.sql_loader import OWN_STATEMENT_MARK
from queries.statements import of_route

RANGE_COLUMNS = {"time_share_ratio": progress("time_share_ratio")}  # labels and units: dashboard/columns.py
RANGE_ORDER = ["query", "calls", "total_exec_time_ms", "mean_exec_time_ms", "time_share_ratio", "calls_per_s_trend",
               "rows", "hit_ratio", "io_time_ms", "total_plan_time_ms", "temp_blks_written", "wal_bytes", "queryid"]


def statement_links(frame: pd.DataFrame) -> dict[str, list[str]]:
    """Per row: its history page (shareable: ?queryid=) and the Explain page with its text filled in."""
    return {"history": [f"statement?{urlencode({'queryid': int(queryid)})}" for queryid in frame["queryid"]],
            "explain": ["explain?" + urlencode({"sql": query}) for query in frame["query"]]}


def statements_over_range_table(context, *, sort_by: str, limit: int, include_nested: bool, include_own: bool,
                                text: str | None, route: str | None = None) -> None:
    """The Queries table over the sidebar's range, from deltas: what ran in that window, not since the last reset."""
    frame = range_read("statements_over_range", context, sort_by=sort_by, limit=int(limit), include_nested=include_nested)
    frame = of_route(frame, route)
    if text:
        frame = frame[frame["query"].str.contains(text, case=False, regex=False)]
    if not include_own:  # pgpulse's own statements carry the mark (queries/sql_loader.py), as on the live view
        frame = frame[~frame["query"].str.contains(OWN_STATEMENT_MARK, regex=False)]
    if frame.empty:  # a delta needs two collections: right after the collector's start there is only one
        every = human_duration(settings().history_statements_seconds)
        st.info(f"No statement ran during the {context.time_range.label}, as far as the collector has seen: it "
                f"compares two collections of pg_stat_statements, one every {every}, so a statement shows here one "
                "collection after it first ran; the view since the statistics reset shows them now.",
                icon=":material/history:")
        return
    frame = frame.assign(calls_per_s_trend=[sparkline(trend, "/s") for trend in frame["calls_per_s_trend"]])
    st.caption(f"{len(frame)} statements that ran during the {context.time_range.label}, from the collector's deltas")
    evictions_note(context)
    table_with_csv(frame, "statements_over_range", column_config=RANGE_COLUMNS,
                   column_order=RANGE_ORDER[:1] + tag_columns(frame) + RANGE_ORDER[1:], links=statement_links(frame))


def evictions_note(context) -> None:
    """pg_stat_statements entries evicted over the range (its dealloc counter): churn says pg_stat_statements.max is
    too small, and an evicted statement's figures start again from zero when it comes back."""
    series = range_read("database_series", context)
    evicted = int(series["evictions"].sum()) if "evictions" in series and series["evictions"].notna().any() else 0
    if evicted:
        st.warning(f"pg_stat_statements evicted {evicted:,} entries during the {context.time_range.label} to make room "
                   "for new ones: the least-run statements are forgotten and start again from zero. Raise "
                   "pg_stat_statements.max (a restart is needed) until no entry is evicted.", icon=":material/warning:")


def overview_history(context) -> None:
    """Transactions, connections, hit ratio, statement time and the database load over the range, as small charts."""
    series = range_read("database_series", context)
    if series.empty:
        st.info(f"Nothing was collected during the {context.time_range.label}.", icon=":material/history:")
        return
    bucket = bucket_of(series)
    charts = [({"transactions_per_s": "transactions / s"}, "Transactions per second", "tx/s", {}),
              ({"connections": "connections"}, "Connections", "sessions", {"integer": True}),
              ({"hit_ratio": "hit ratio"}, "Buffer cache hit ratio", "", {"percent": True}),
              ({"statement_time_ms_per_s": "statement time"}, "Statement time per second", "ms/s", {})]
    columns, markers = st.columns(5), setting_markers(context)
    for position, (lines, title, unit, options) in enumerate(charts):
        columns[position].plotly_chart(series_chart(series, lines, title, unit=unit, bucket_s=bucket, markers=markers,
                                                    **options), key=f"oh_chart_{position}")
    with columns[4]:
        overview_load(context)


def what_changed_table(context) -> None:
    """Statements that got 2x slower against the previous window of the same length, and new ones."""
    frame = range_read("what_changed", context)
    if frame.empty:
        st.caption(f"No statement got 2x slower or appeared new during the {context.time_range.label}, "
                   "against the window before it.")
        return
    table_with_csv(frame, "what_changed", column_order=["change", "query", "mean_time_ratio", "mean_exec_time_ms",
                                                        "previous_mean_exec_time_ms", "calls", "total_exec_time_ms"],
                   links=statement_links(frame))
