"""Space and index use over the sidebar's range (the collector's size snapshots and index-scan deltas): the Space
page's growth per table and index with the database's size over time, and the Indexes page's indexes not scanned
over the range. Data from queries.history.sizes through dashboard.history's cached reads."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from dashboard.components import table_with_csv
from dashboard.data import settings
from dashboard.formatting import human_bytes, human_duration
from dashboard.history import range_read

GROWTH_FIRST = ["schema_name", "relation_name", "kind", "growth_bytes_per_day", "growth_bytes", "size_bytes",
                "days_to_double"]
UNUSED_FIRST = ["schema_name", "table_name", "index_name", "fix_sql", "size_bytes"]
HEIGHT = 220


def _when(moment) -> str:
    return pd.Timestamp(moment).strftime("%Y-%m-%d %H:%M UTC")


def _pace(seconds: int) -> str:
    """A collector pace in words: "10 min", "1 h", "1.5 h"."""
    return human_duration(seconds) if seconds < 3600 else f"{seconds / 3600:g} h"


def table_growth(context, *, limit: int = 200) -> None:
    """Tables and indexes by growth over the range, with when each would double at that rate, then the database's
    size over time."""
    frame = range_read("table_growth", context, limit=int(limit))
    every = _pace(settings().history_sizes_seconds)
    if frame.empty:
        st.info(f"Growth needs two size collections in the {context.time_range.label}: the collector sizes every "
                f"table and index every {every} (`history_sizes_seconds`); pick a longer range, or wait.",
                icon=":material/history:")
    else:
        growing = int((frame["growth_bytes"] > 0).sum())
        st.caption(f"{growing} of {len(frame)} tables and indexes grew between the size collections of "
                   f"{_when(frame['measured_from'].iloc[0])} and {_when(frame['measured_to'].iloc[0])} (exact sizes, "
                   f"every {every}); a table's size is its heap and TOAST, its indexes are rows of their own. "
                   "Days to double: at the range's rate.")
        if frame["estimated"].iloc[0]:
            st.caption("Some sizes compared are estimates from page counts (relpages): the exact read timed out or "
                       "waited on a lock then, so growth here is rough.")
        table_with_csv(frame.drop(columns=["measured_from", "measured_to", "estimated"]), "table_growth",
                       first=GROWTH_FIRST)
    database_size_chart(context)


def database_size_chart(context) -> None:
    sizes = range_read("database_size_series", context)
    if len(sizes) < 2:  # one value is no chart
        return
    change = sizes["size_bytes"].iloc[-1] - sizes["size_bytes"].iloc[0]
    figure = go.Figure(go.Scatter(x=sizes["sampled_at"], y=sizes["size_bytes"], mode="lines+markers",
                                  hovertemplate="%{y:,.0f} bytes<extra>database</extra>"))
    figure.update_layout(title=f"Database size ({'+' if change >= 0 else '−'}{human_bytes(abs(change))} over the range)",
                         height=HEIGHT, margin={"l": 10, "r": 10, "t": 40, "b": 10}, showlegend=False)
    figure.update_xaxes(title=None)
    figure.update_yaxes(title=None, tickformat=".3s", ticksuffix="B")
    st.plotly_chart(figure, key="s_database_size")


def unused_over_range(context) -> None:
    """Droppable indexes not scanned once over the range while the collector counted, and the scans of the busiest
    indexes over time."""
    covered = range_read("index_scan_coverage", context)
    if covered is None:
        every = _pace(settings().history_index_scans_seconds)
        st.info(f"No index scans were counted during the {context.time_range.label}: the collector reads them every "
                f"{every} (`history_index_scans_seconds`) and sizes indexes every "
                f"{_pace(settings().history_sizes_seconds)}.", icon=":material/history:")
        return
    counted = f"from {_when(covered[0])} to {_when(covered[1])}"
    frame = range_read("unused_indexes_over_range", context)
    if not frame.empty:
        st.caption(f"Not scanned once {counted} (the collector's counts, whatever resets happened); unique, "
                   "primary-key and constraint indexes are left out: they work without being scanned.")
    table_with_csv(frame.drop(columns=["index_scans", "droppable", "counted_from", "counted_to"]),
                   "unused_indexes_over_range", first=UNUSED_FIRST,
                   empty=f"Every droppable index was scanned at least once {counted}.")
    index_scan_chart(context)


def index_scan_chart(context) -> None:
    series = range_read("index_scan_series", context)
    if series["bucket_start"].nunique() < 2:  # one bucket is no chart
        return
    figure = go.Figure()
    for name, part in series.groupby("index_name", sort=False):
        figure.add_trace(go.Bar(x=part["bucket_start"], y=part["index_scans"], name=name,
                                hovertemplate=f"%{{y:,d}} scans<extra>{name}</extra>"))
    figure.update_layout(title="Scans of the most scanned indexes", barmode="stack", height=HEIGHT,
                         margin={"l": 10, "r": 10, "t": 40, "b": 10}, legend={"orientation": "h", "y": -0.25})
    figure.update_xaxes(title=None)
    figure.update_yaxes(title="scans", tickformat=",d", rangemode="tozero")
    st.plotly_chart(figure, key="i_scan_chart")
