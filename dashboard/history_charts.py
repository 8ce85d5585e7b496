"""Figures over a time range from the history store: lines that break where nothing was collected."""
from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

HEIGHT = 220


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
                 integer: bool = False, percent: bool = False, bucket_s: int | None = None) -> go.Figure:
    """One line per column (column -> legend name) over bucket_start, gaps left open."""
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
        figure.update_yaxes(tickformat=".1%", title=None)
    else:
        figure.update_yaxes(title=unit or None, tickformat=",d" if integer else None, rangemode="tozero")
    return figure


def load_chart(frame: pd.DataFrame, *, cpu_count: int | None = None, max_connections: int | None = None,
               bucket_s: int | None = None, title: str = "Database load", height: int = 320,
               axis_title: str = "average active sessions") -> go.Figure:
    """Average active sessions per bucket, stacked by dimension (frame: bucket_start, dimension, label,
    average_active_sessions), with the CPU count as a line, and max_connections when the load comes near it."""
    figure = go.Figure()
    labels = dict(zip(frame["dimension"], frame["label"], strict=True))
    for dimension in dict.fromkeys(frame["dimension"]):
        part = with_gaps(frame[frame["dimension"] == dimension][["bucket_start", "average_active_sessions"]], bucket_s)
        name = _short(labels[dimension])
        mode = "lines" if len(part) > 1 else "lines+markers"  # one bucket: a line needs two points to show
        figure.add_trace(go.Scatter(x=part["bucket_start"], y=part["average_active_sessions"], name=name, mode=mode,
                                    stackgroup="load", line={"width": 0.5}, connectgaps=False,
                                    hovertemplate=f"%{{y:,.2f}} sessions<extra>{name}</extra>"))
    peak = frame.groupby("bucket_start")["average_active_sessions"].sum().max() if len(frame) else 0
    for value, words in ((cpu_count, f"{cpu_count} CPUs"), (max_connections, f"max_connections {max_connections}")):
        if value and (value == cpu_count or peak >= value / 4):  # a far line would flatten the load to nothing
            figure.add_hline(y=value, line_dash="dash", line_color="gray", annotation_text=words,
                             annotation_position="top left")
    figure.update_layout(title=title, height=height, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.2}, hovermode="x unified")
    figure.update_xaxes(title=None)
    figure.update_yaxes(title=axis_title, rangemode="tozero")
    return figure


def _short(text: str, width: int = 60) -> str:
    flat = " ".join(str(text).split())
    return flat if len(flat) <= width else flat[:width - 1] + "…"
