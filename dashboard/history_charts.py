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
