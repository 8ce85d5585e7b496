"""Plotly figure builders: DataFrame in, figure out, no data access."""
from __future__ import annotations

import pandas as pd
import plotly.express as px
import plotly.graph_objects as go

from dashboard.formatting import human_bytes, human_duration, shorten

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


def _wrapped(text: str, width: int = 90, lines: int = 12) -> str:
    """A statement's full text for a hover box: wrapped, so a long one does not run off the screen."""
    import textwrap

    wrapped = textwrap.wrap(" ".join(str(text).split()), width) or [""]
    return "<br>".join(wrapped[:lines]) + ("<br>…" if len(wrapped) > lines else "")


def top_statements_bar(frame: pd.DataFrame, metric: str, top_n: int = 15) -> go.Figure:
    """Horizontal bars of the top statements by `metric`, largest on top: short labels, the full text on hover."""
    if frame.empty:
        return _empty("No statements recorded yet")
    top = frame.nlargest(top_n, metric).iloc[::-1]
    labels = [f"#{rank} {shorten(query, 34)}" for rank, query in zip(range(len(top), 0, -1), top["query"], strict=True)]
    hover = [_wrapped(query) for query in top["query"]]
    number = ",d" if metric in ("calls", "rows") else ",.0f" if top[metric].max() >= 100 else ",.2~f"
    figure = go.Figure(go.Bar(
        x=top[metric], y=labels, orientation="h", customdata=list(zip(hover, top["calls"], strict=True)),
        hovertemplate=f"%{{customdata[0]}}<br><br>calls %{{customdata[1]:,}}<br>%{{x:{number}}}<extra></extra>",
        marker={"color": "#4c78a8"},
    ))
    figure.update_layout(xaxis_title=METRIC_LABELS.get(metric, metric), height=max(260, 26 * len(top) + 80),
                         margin={"l": 10, "r": 10, "t": 30, "b": 40}, xaxis={"tickformat": number},
                         title=f"Top {len(top)} by {METRIC_LABELS.get(metric, metric).lower()}")
    return figure


def calls_vs_mean_scatter(frame: pd.DataFrame) -> go.Figure:
    """Log-log calls against mean time: many cheap calls are N+1 suspects, few costly ones slow queries."""
    points = frame[(frame["calls"] > 0) & (frame["mean_exec_time_ms"] > 0)].copy()
    if points.empty:
        return _empty("No statements with calls yet")
    points["statement"] = points["query"].map(lambda text: shorten(text, 90))
    # bubble area by total time, but never a dot too small to see or hover
    points["bubble"] = points["total_exec_time_ms"].clip(lower=points["total_exec_time_ms"].max() / 60)
    figure = px.scatter(
        points, x="calls", y="mean_exec_time_ms", size="bubble", size_max=36,
        log_x=True, log_y=True, hover_name="statement", color="rows_per_call",
        color_continuous_scale=[[0, "#6baed6"], [0.5, "#2171b5"], [1, "#a50f15"]],  # dark enough on white throughout
        hover_data={"total_exec_time_ms": ":,.1f", "rows_per_call": ":,.1f", "bubble": False},
        labels={"calls": "Calls (log)", "mean_exec_time_ms": "Mean time, ms (log)", "rows_per_call": "Rows / call",
                "total_exec_time_ms": "Total time, ms"},
    )
    figure.update_traces(marker={"opacity": 0.8, "line": {"width": 1, "color": "#1b2a3a"}})
    figure.add_annotation(xref="paper", yref="paper", x=0.99, y=0.02, xanchor="right", showarrow=False,
                          text="many cheap calls → N+1 suspects", font={"color": "#a50f15"})
    figure.add_annotation(xref="paper", yref="paper", x=0.01, y=0.98, xanchor="left", showarrow=False,
                          text="few expensive calls → slow queries", font={"color": "#a50f15"})
    largest = human_duration(points["total_exec_time_ms"].max() / 1000)
    figure.update_layout(height=420, margin={"l": 10, "r": 10, "t": 50, "b": 40},
                         title={"text": f"Calls vs mean time<br><sup>bubble area: total time (the largest: {largest}) · "
                                        "colour: rows per call</sup>"})
    return figure


def count_bar(frame: pd.DataFrame, category: str, value: str, title: str, top_n: int = 15) -> go.Figure:
    """Horizontal bars of `value` summed per `category` (e.g. connections per state), largest on top; whole
    numbers on the axis."""
    if frame.empty:
        return _empty(f"No data for {title.lower()}")
    grouped = (frame.assign(**{category: frame[category].fillna("(none)").astype(str).replace("", "(none)")})
               .groupby(category, as_index=False)[value].sum().nlargest(top_n, value).iloc[::-1])
    figure = go.Figure(go.Bar(x=grouped[value], y=[shorten(label, 32) for label in grouped[category]], orientation="h",
                              text=grouped[value], textposition="auto", marker={"color": "#4c78a8"},
                              customdata=grouped[category], hovertemplate="%{customdata}: %{x:,d}<extra></extra>"))
    figure.update_layout(title=title, height=max(180, 30 * len(grouped) + 90), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         xaxis={"tickformat": ",d", "dtick": whole_dtick(grouped[value].max()), "rangemode": "tozero"},
                         yaxis={"automargin": True})
    return figure


def wait_label(wait_type, wait_event) -> str:
    """'Lock: transactionid'; a backend without a wait is running on CPU."""
    return "running (CPU)" if pd.isna(wait_type) else f"{wait_type}: {wait_event}"


def wait_events_bar(waits: pd.DataFrame, sessions: pd.DataFrame) -> go.Figure:
    """Active backends by wait event, each bar split into client sessions (the ones the session tables list) and
    background processes (autovacuum workers, WAL writer, checkpointer ...), so neither is mistaken for the other."""
    totals = pd.Series(waits["backend_count"].to_numpy(), index=[wait_label(t, e) for t, e in
                                                                 zip(waits["wait_event_type"], waits["wait_event"], strict=True)])
    active = sessions[(sessions["state"] != "idle") & (sessions["wait_event_type"] != "Activity")]
    clients = pd.Series([wait_label(t, e) for t, e in zip(active["wait_event_type"], active["wait_event"], strict=True)],
                        dtype=object).value_counts().reindex(totals.index, fill_value=0).clip(upper=totals)
    order = totals.sort_values(kind="stable").index  # the busiest on top
    labels = [shorten(label, 32) for label in order]
    figure = go.Figure()
    for name, counts, colour in (("client sessions", clients[order], "#4c78a8"),
                                 ("background processes", (totals - clients)[order], "#b0bec5")):
        figure.add_bar(x=counts, y=labels, orientation="h", name=name, marker={"color": colour}, customdata=list(order),
                       hovertemplate=f"%{{customdata}}: %{{x:,d}} {name}<extra></extra>")
    figure.update_layout(barmode="stack", title="Active backends by wait event", height=max(200, 30 * len(order) + 110),
                         margin={"l": 10, "r": 10, "t": 40, "b": 10}, yaxis={"automargin": True},
                         xaxis={"tickformat": ",d", "dtick": whole_dtick(totals.max()), "rangemode": "tozero"},
                         legend={"orientation": "h", "y": 1.0, "yanchor": "bottom", "x": 1, "xanchor": "right"})
    return figure


def whole_dtick(top: float) -> int | None:
    """A whole-number tick step for an axis of counts (Plotly would write 0.5, 1.5 for small ones)."""
    if top <= 10:
        return 1
    return None


def distinct_values(frame: pd.DataFrame, category: str) -> int:
    """How many bars count_bar would draw (one bar is not worth a chart)."""
    return frame[category].fillna("(none)").astype(str).replace("", "(none)").nunique()


def size_treemap(frame: pd.DataFrame, size: str = "total_bytes") -> go.Figure:
    """Treemap of relation sizes by schema and table, coloured by size and labelled with human sizes."""
    sized = frame[frame[size] > 0].copy()
    if sized.empty:
        return _empty("No relations with a size")
    sized["size_text"] = sized[size].map(human_bytes)
    figure = px.treemap(sized, path=[px.Constant("all schemas"), "schema_name", "table_name"], values=size,
                        color=size, color_continuous_scale="Blues", title="Size by schema and table")
    totals = {trace_id: value for trace_id, value in zip(figure.data[0].ids, figure.data[0].values, strict=True)}
    figure.data[0].customdata = [[human_bytes(totals[trace_id])] for trace_id in figure.data[0].ids]
    figure.update_traces(texttemplate="%{label}<br>%{customdata[0]}", hovertemplate="%{label}: %{customdata[0]}<extra></extra>")
    figure.update_layout(height=480, margin={"l": 10, "r": 10, "t": 40, "b": 10}, coloraxis_showscale=False)
    return figure


def horizontal_bar(frame: pd.DataFrame, label: str, value: str, title: str, top_n: int = 20,
                   unit: str = "count") -> go.Figure | None:
    """Top-N horizontal bars (e.g. tables by size), largest on top; unit 'bytes' labels the bars with human sizes,
    'count' keeps whole numbers on the axis. None with fewer than two values above 0: one bar the width of the page
    (or an empty axis) says less than the table under it."""
    numbers = frame.assign(**{value: pd.to_numeric(frame[value], errors="coerce")})  # an empty frame's are objects
    top = numbers[numbers[value] > 0].nlargest(top_n, value).iloc[::-1]  # zero-length bars only take room
    if len(top) < 2:
        return None
    texts = [human_bytes(number) if unit == "bytes" else f"{int(number):,}" for number in top[value]]
    figure = go.Figure(go.Bar(x=top[value], y=top[label].astype(str), orientation="h", text=texts, textposition="auto",
                              marker={"color": "#4c78a8"}, hovertemplate="%{y}: %{text}<extra></extra>"))
    axis = {"showticklabels": False} if unit == "bytes" else {"tickformat": ",d", "dtick": whole_dtick(top[value].max())}
    figure.update_layout(title=title, height=max(180, 26 * len(top) + 90), margin={"l": 10, "r": 10, "t": 40, "b": 10},
                         xaxis={**axis, "rangemode": "tozero"}, yaxis={"automargin": True})
    return figure


def ratio_gauge(ratio: float | None, title: str) -> go.Figure:
    """A hit-ratio gauge on the scale where hit ratios differ (90-100 %; 0-100 % below 90 %), coloured by health."""
    percent = None if ratio is None else ratio * 100
    low = 90 if percent is None or percent >= 90 else 0
    colour = "#2e7d32" if percent is not None and percent >= 99 else "#ef6c00" if percent is not None and percent >= 95 \
        else "#c62828"
    figure = go.Figure(go.Indicator(mode="gauge+number", value=percent,
                                    number={"suffix": " %", "valueformat": ".2f"}, title={"text": title},
                                    gauge={"axis": {"range": [low, 100], "ticksuffix": " %"}, "bar": {"color": colour},
                                           "steps": [{"range": [low, 95], "color": "#fdecea"},
                                                     {"range": [95, 99], "color": "#fff4e5"},
                                                     {"range": [99, 100], "color": "#e8f5e9"}]}))
    figure.update_layout(height=220, margin={"l": 30, "r": 30, "t": 50, "b": 10})
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
