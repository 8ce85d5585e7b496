"""Figures over a time range from the history store: lines that break where nothing was collected."""
from __future__ import annotations

import math

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


BYTE_UNITS = ("bytes", "kB", "MB", "GB", "TB")


def _byte_scale(top: float) -> tuple[int, str]:
    """The divisor and unit that keep a byte axis under four digits: 15,000 bytes reads 14.6 kB (1024-based, as
    human_bytes writes sizes everywhere else)."""
    power = 0
    while power < len(BYTE_UNITS) - 1 and top >= 1024 ** (power + 1):
        power += 1
    return 1024 ** power, BYTE_UNITS[power]


# times of day, level, on a chart a quarter of the page wide: "17:30", or the day over a week ("Dec 07")
TIME_AXIS = {"title": None, "tickangle": 0, "nticks": 5,
             "tickformatstops": [{"dtickrange": [None, 86_400_000], "value": "%H:%M"},
                                 {"dtickrange": [86_400_000, None], "value": "%b %d"}]}


def ratio_floor(low: float | None) -> float:
    """The bottom of a ratio axis: 90 % while the ratio stays above it, else the next 5 % step below its lowest."""
    if low is None or pd.isna(low):
        return 0.9
    return max(0.0, min(0.9, math.floor((float(low) - 0.005) * 20) / 20))


def series_chart(frame: pd.DataFrame, columns: dict[str, str], title: str, *, unit: str = "",
                 integer: bool = False, percent: bool = False, bucket_s: int | None = None,
                 markers: pd.DataFrame | None = None) -> go.Figure:
    """One line per column (column -> legend name) over bucket_start, gaps left open. Counts (integer) get whole
    ticks; bytes are drawn in kB / MB as their size needs; `markers`: setting changes (changed_at, name) drawn as
    vertical lines."""
    from dashboard.charts import whole_dtick

    gridded = with_gaps(frame, bucket_s)
    shown = [column for column in columns if column in gridded]
    top = max([gridded[column].max() for column in shown] + [0])
    top = 0 if pd.isna(top) else float(top)
    low = min([gridded[column].min() for column in shown if gridded[column].notna().any()], default=None)
    divisor = 1
    if unit == "bytes":
        divisor, unit = _byte_scale(top)
        integer = integer and divisor == 1
    figure = go.Figure()
    for column in shown:
        name = columns[column]
        hover = f"%{{y:,.{0 if integer else 2}f}} {unit}<extra>{name}</extra>"
        figure.add_trace(go.Scatter(x=gridded["bucket_start"], y=gridded[column] / divisor, name=name, mode="lines",
                                    connectgaps=False, hovertemplate=hover))
    figure.update_layout(title=title, height=HEIGHT, margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         legend={"orientation": "h", "y": -0.25}, showlegend=len(columns) > 1)
    figure.update_xaxes(**TIME_AXIS)
    if percent:  # a ratio on the scale where it differs (95-100 %), never past 100 %
        figure.update_yaxes(tickformat=".1%", title=None, range=[ratio_floor(low), 1.0])
    else:
        figure.update_yaxes(title=unit or None, tickformat=",d" if integer else None, rangemode="tozero",
                            dtick=whole_dtick(top / divisor) if integer else None,
                            range=[0, 1] if integer and top == 0 else None)  # all zero: 0 and 1, not 0, 1, 1
    return with_markers(figure, markers)


def load_chart(frame: pd.DataFrame, *, cpu_count: int | None = None, max_connections: int | None = None,
               bucket_s: int | None = None, title: str = "Database load", height: int = 320,
               markers: pd.DataFrame | None = None, axis_title: str = "average active sessions") -> go.Figure:
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
    figure.update_xaxes(**TIME_AXIS)
    figure.update_yaxes(title=axis_title, rangemode="tozero")
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
