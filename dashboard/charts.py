"""Plotly figure builders: DataFrame in, figure out, no data access."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.formatting import shorten

METRIC_LABELS = {
    "total_exec_time_ms": "Total time (ms)",
    "mean_exec_time_ms": "Mean time (ms)",
    "calls": "Calls",
    "rows": "Rows",
    "io_time_ms": "Block I/O time (ms)",
}


def _empty(message: str) -> go.Figure:
    figure = go.Figure()
    figure.add_annotation(text=message, showarrow=False, font={"size": 14})
    figure.update_layout(xaxis={"visible": False}, yaxis={"visible": False}, height=200)
    return figure


def top_statements_bar(frame: pd.DataFrame, metric: str, top_n: int = 15) -> go.Figure:
    """Horizontal bars of the top statements by `metric`, largest on top."""
    if frame.empty:
        return _empty("No statements recorded yet")
    top = frame.nlargest(top_n, metric).iloc[::-1]
    labels = [f"#{rank} {shorten(query, 110)}" for rank, query in zip(range(len(top), 0, -1), top["query"], strict=True)]
    figure = go.Figure(go.Bar(
        x=top[metric], y=labels, orientation="h", customdata=top[["query", "calls"]],
        hovertemplate="%{customdata[0]}<br>calls %{customdata[1]:,}<br>%{x:,.2f}<extra></extra>",
    ))
    figure.update_layout(xaxis_title=METRIC_LABELS.get(metric, metric), height=max(260, 28 * len(top) + 80),
                         margin={"l": 10, "r": 10, "t": 30, "b": 40},
                         title=f"Top {len(top)} by {METRIC_LABELS.get(metric, metric).lower()}")
    return figure


def calls_vs_mean_scatter(frame: pd.DataFrame) -> go.Figure:
    """Log-log calls against mean time: many cheap calls are N+1 suspects, few costly ones slow queries."""
    points = frame[(frame["calls"] > 0) & (frame["mean_exec_time_ms"] > 0)].copy()
    if points.empty:
        return _empty("No statements with calls yet")
    points["statement"] = points["query"].map(lambda text: shorten(text, 90))
    figure = px.scatter(
        points, x="calls", y="mean_exec_time_ms", size="total_exec_time_ms", size_max=40,
        log_x=True, log_y=True, hover_name="statement", color="rows_per_call",
        color_continuous_scale="Viridis", hover_data={"total_exec_time_ms": ":,.1f", "rows_per_call": ":.1f"},
        labels={"calls": "Calls (log)", "mean_exec_time_ms": "Mean time, ms (log)", "rows_per_call": "Rows / call"},
    )
    figure.add_annotation(xref="paper", yref="paper", x=0.99, y=0.02, xanchor="right", showarrow=False,
                          text="many cheap calls → N+1 suspects", font={"color": "#c0392b"})
    figure.add_annotation(xref="paper", yref="paper", x=0.01, y=0.98, xanchor="left", showarrow=False,
                          text="few expensive calls → slow queries", font={"color": "#c0392b"})
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 30, "b": 40}, title="Calls vs mean time")
    return figure


def count_bar(frame: pd.DataFrame, category: str, value: str, title: str, top_n: int = 15) -> go.Figure:
    """Bars of `value` summed per `category` (e.g. connections per state), largest first."""
    if frame.empty:
        return _empty(f"No data for {title.lower()}")
    grouped = (frame.assign(**{category: frame[category].fillna("(none)").astype(str).replace("", "(none)")})
               .groupby(category, as_index=False)[value].sum().nlargest(top_n, value))
    figure = px.bar(grouped, x=category, y=value, title=title, text_auto=True)
    figure.update_layout(height=300, margin={"l": 10, "r": 10, "t": 40, "b": 10}, xaxis_title=None, yaxis_title=None)
    return figure


def size_treemap(frame: pd.DataFrame, size: str = "total_bytes") -> go.Figure:
    """Treemap of relation sizes by schema and table."""
    sized = frame[frame[size] > 0]
    if sized.empty:
        return _empty("No relations with a size")
    figure = px.treemap(sized, path=[px.Constant("all"), "schema_name", "table_name"], values=size,
                        title="Size by schema and table")
    figure.update_traces(hovertemplate="%{label}<br>%{value:,.0f} bytes<extra></extra>")
    figure.update_layout(height=480, margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def horizontal_bar(frame: pd.DataFrame, label: str, value: str, title: str, top_n: int = 20) -> go.Figure:
    """Top-N horizontal bars (e.g. tables by size), largest on top."""
    if frame.empty:
        return _empty(f"No data for {title.lower()}")
    top = frame.nlargest(top_n, value).iloc[::-1]
    if not (top[value] > 0).any():  # all zero (no dead rows yet): an empty axis from -1 to 1 says nothing
        return _empty(f"Nothing to show for {title.lower()}: every value is 0")
    figure = go.Figure(go.Bar(x=top[value], y=top[label].astype(str), orientation="h"))
    figure.update_layout(title=title, height=max(240, 24 * len(top) + 80), margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure


def ratio_gauge(ratio: float | None, title: str) -> go.Figure:
    """A 0-100 % gauge (hit ratios, memory use)."""
    figure = go.Figure(go.Indicator(mode="gauge+number", value=None if ratio is None else ratio * 100,
                                    number={"suffix": " %", "valueformat": ".2f"}, title={"text": title},
                                    gauge={"axis": {"range": [0, 100]}}))
    figure.update_layout(height=220, margin={"l": 20, "r": 20, "t": 50, "b": 10})
    return figure


def _flag_colour(flags) -> str:
    """Red for the slowest node, orange for anything else flagged, grey otherwise."""
    if not isinstance(flags, list | tuple) or not flags:
        return "#d5dbe1"
    return "#c0392b" if any(flag.startswith(("slowest", "very slow", "costliest")) for flag in flags) else "#e67e22"


def _plan_size(nodes: pd.DataFrame) -> tuple[str, str]:
    """What sizes the plan's nodes: their own time with ANALYZE, else their own estimated cost."""
    if nodes["exclusive_ms"].notna().any():
        return "exclusive_ms", "own time"
    return "exclusive_cost", "own estimated cost"


def _plan_value(size: str, value: float) -> str:
    return f"{value:,.2f} ms" if size == "exclusive_ms" else f"{value:,.1f} cost units"


def plan_icicle(nodes: pd.DataFrame) -> go.Figure:
    """The plan tree as an icicle, each node sized by its exclusive time (or cost) and coloured by flags."""
    if nodes.empty:
        return _empty("No plan")
    size, words = _plan_size(nodes)
    values = nodes[size].fillna(0).clip(lower=0) + 1e-6  # zero-width nodes would vanish from the tree
    parents = ["" if pd.isna(parent) else str(int(parent)) for parent in nodes["parent_id"]]
    hover = [f"{label}<br>{words.capitalize()}: {_plan_value(size, value)}<br>{'<br>'.join(flags) if flags else 'no flags'}"
             for label, value, flags in zip(nodes["label"], nodes[size].fillna(0), nodes["flags"], strict=True)]
    figure = go.Figure(go.Icicle(
        ids=nodes["node_id"].astype(str), labels=nodes["label"], parents=parents, values=values,
        branchvalues="remainder", marker={"colors": [_flag_colour(flags) for flags in nodes["flags"]]},
        hovertext=hover, hoverinfo="text", tiling={"orientation": "v"}, sort=False,
    ))
    levels = int(nodes["depth"].max()) + 1
    figure.update_layout(height=min(520, 60 + 90 * levels), margin={"l": 10, "r": 10, "t": 30, "b": 10},
                         title=f"Plan tree sized by each node's {words} (red: slowest, orange: flagged)")
    return figure


def top_nodes_bar(nodes: pd.DataFrame, top_n: int = 15) -> go.Figure:
    """The nodes that took the most exclusive time (or estimated cost without ANALYZE)."""
    size, words = _plan_size(nodes)
    top = nodes.nlargest(top_n, size).iloc[::-1]
    if top.empty:
        return _empty("No plan")
    figure = go.Figure(go.Bar(
        x=top[size], y=[f"#{node_id} {shorten(label, 70)}" for node_id, label in zip(top["node_id"], top["label"], strict=True)],
        orientation="h", marker={"color": [_flag_colour(flags) for flags in top["flags"]]},
        customdata=top["label"], hovertemplate="%{customdata}<br>%{x:,.2f}<extra></extra>"))
    figure.update_layout(title=f"Nodes by {words}", height=max(240, 26 * len(top) + 80),
                         xaxis_title="Own time (ms)" if size == "exclusive_ms" else "Own estimated cost",
                         margin={"l": 10, "r": 10, "t": 40, "b": 10})
    return figure
