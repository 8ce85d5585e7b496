"""Figures over a time range from the history store: lines that break where nothing was collected."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

HEIGHT = 220
MAX_MARKERS = 100


def with_gaps(frame: pd.DataFrame, bucket_s: int | None = None) -> pd.DataFrame:
    """The frame on a regular grid of its buckets: a bucket the collector missed becomes a row of NaN, so the line
    breaks there instead of joining across the outage (a gap is a gap, never a zero)."""
    if frame.empty or len(frame) < 2:
        return frame
    frame = frame.sort_values("bucket_start")
    step = pd.Timedelta(seconds=bucket_s) if bucket_s else frame["bucket_start"].diff().min()
    grid = pd.date_range(frame["bucket_start"].iloc[0], frame["bucket_start"].iloc[-1], freq=step)
    return frame.set_index("bucket_start").reindex(grid).rename_axis("bucket_start").reset_index()


def series_chart(frame: pd.DataFrame, columns: dict[str, str], title: str, *, unit: str = "",
                 integer: bool = False, percent: bool = False, bucket_s: int | None = None,
                 markers: pd.DataFrame | None = None) -> go.Figure:
    """One line per column (column -> legend name) over bucket_start, gaps left open; `markers`: setting changes
    (changed_at, name) drawn as vertical lines."""
    gridded = with_gaps(frame, bucket_s)
    figure = go.Figure()
    for column, name in columns.items():
        if column in gridded:
            hover = f"%{{y:,.{0 if integer else 2}f}} {unit}<extra>{name}</extra>"
            figure.add_trace(go.Scatter(x=gridded["bucket_start"], y=gridded[column], name=name, mode="lines",
                                        connectgaps=False, hovertemplate=hover))
    figure.update_layout(title=title, height=HEIGHT, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.25}, showlegend=len(columns) > 1)
    figure.update_xaxes(title=None)
    if percent:
        span = _ratio_range(gridded, columns)
        narrow = span is not None and span[1] - span[0] < 0.05  # 99.85 %, not three ticks reading 99.9 %
        figure.update_yaxes(tickformat=".2%" if narrow else ".1%", title=None, range=span)
    else:
        figure.update_yaxes(title=unit or None, tickformat=",d" if integer else None, rangemode="tozero")
        if integer and _peak(gridded, columns) < 5:  # whole steps: ",d" on 0.5 steps would print 0, 1, 1
            figure.update_yaxes(dtick=1, range=[0, max(_peak(gridded, columns), 1) * 1.1])
    return with_markers(figure, markers)


def _peak(frame: pd.DataFrame, columns: dict[str, str]) -> float:
    values = [frame[column].max() for column in columns if column in frame and len(frame)]
    return max((float(value) for value in values if pd.notna(value)), default=0.0)


def _ratio_range(frame: pd.DataFrame, columns: dict[str, str]) -> list[float] | None:
    """Ratios on the scale where they differ: from a little under the lowest to just over 100 % (a flat 100 %
    line would otherwise sit mid-way on 0 to 200 %)."""
    values = pd.concat([frame[column] for column in columns if column in frame]).dropna() if len(frame) else []
    if len(values) == 0 or values.max() > 1:
        return None
    span = max(1.0 - float(values.min()), 0.01)
    return [max(0.0, float(values.min()) - span * 0.2), 1.0 + span * 0.05]


def load_chart(frame: pd.DataFrame, *, cpu_count: int | None = None, max_connections: int | None = None,
               bucket_s: int | None = None, title: str = "Database load", height: int = 320,
               markers: pd.DataFrame | None = None) -> go.Figure:
    """Average active sessions per bucket, stacked by dimension (frame: bucket_start, dimension, label,
    average_active_sessions), with the CPU count as a line, and max_connections when the load comes near it."""
    figure = go.Figure()
    labels = dict(zip(frame["dimension"], frame["label"], strict=True))
    for dimension in dict.fromkeys(frame["dimension"]):
        part = with_gaps(frame[frame["dimension"] == dimension][["bucket_start", "average_active_sessions"]], bucket_s)
        name = _short(labels[dimension])
        figure.add_trace(go.Scatter(x=part["bucket_start"], y=part["average_active_sessions"], name=name,
                                    mode="lines", stackgroup="load", line={"width": 0.5}, connectgaps=False,
                                    hovertemplate=f"%{{y:,.2f}} sessions<extra>{name}</extra>"))
    peak = frame.groupby("bucket_start")["average_active_sessions"].sum().max() if len(frame) else 0
    for value, words in ((cpu_count, f"{cpu_count} CPUs"), (max_connections, f"max_connections {max_connections}")):
        if value and (value == cpu_count or peak >= value / 4):  # a far line would flatten the load to nothing
            figure.add_hline(y=value, line_dash="dash", line_color="gray", annotation_text=words,
                             annotation_position="top left")
    figure.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.2}, hovermode="x unified")
    figure.update_xaxes(title=None)
    figure.update_yaxes(title="average active sessions", rangemode="tozero")
    return with_markers(figure, markers)


def with_markers(figure: go.Figure, markers: pd.DataFrame | None) -> go.Figure:
    """A dotted vertical line at each moment a setting changed (markers: changed_at, name, as
    queries.history.settings_history.setting_changes reads them), the settings' names on hover over its top end,
    as PoWA's pg_track_settings marks them."""
    if markers is None or markers.empty:
        return figure
    moments = markers.groupby("changed_at")["name"].agg(lambda names: ", ".join(dict.fromkeys(names)))
    moments = moments.tail(MAX_MARKERS)  # a setting flipped all day long: the latest moments, not a wall of lines
    for moment in moments.index:
        figure.add_vline(x=moment, line_dash="dot", line_color="gray", line_width=1, opacity=0.7)
    # hover needs a trace: one marker per moment at the top of the plot, on an axis of its own (0 to 1)
    figure.add_trace(go.Scatter(x=list(moments.index), y=[1.0] * len(moments), yaxis="y9", mode="markers",
                                marker={"symbol": "triangle-down", "size": 9, "color": "gray"}, showlegend=False,
                                name="setting changed", customdata=[_short(names, 120) for names in moments],
                                hovertemplate="setting changed: %{customdata}<extra></extra>"))
    figure.update_layout(yaxis9={"overlaying": "y", "range": [0, 1.02], "visible": False, "fixedrange": True})
    return figure


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"
