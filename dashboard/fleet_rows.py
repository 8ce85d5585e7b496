"""The Fleet page's rows in people's words: a status that says why a target is unreachable and for how long, the
connections against max_connections, the trend as a text sparkline, and the failing checks as links to their pages."""
from __future__ import annotations

import pandas as pd

from dashboard.formatting import human_duration, sparkline
from queries.health import counted

FLEET_ORDER = ["fleet_status", "failing_checks", "transactions_per_s_trend", "transactions_per_s",
               "average_active_sessions", "connections_of_max", "hit_ratio", "replication_lag_s", "oldest_xact_age_s",
               "wraparound_ratio", "server_version", "uptime_s", "checked_age_s", "figures_age_s", "rates_age_s",
               "load_age_s", "checks_age_s"]


def status_text(row: pd.Series) -> str:
    """'Reachable', 'Unreachable for 2 min: <why>', or 'Not polled yet'."""
    if pd.isna(row["reachable"]):
        return "Not polled yet"
    if row["reachable"]:
        return "Reachable"
    since = row["unreachable_for_s"]
    return f"Unreachable{'' if pd.isna(since) else f' for {human_duration(since)}'}: {row['error']}"


def _connections(row: pd.Series) -> str:
    if pd.isna(row["server_connections"]) or pd.isna(row["max_connections"]):
        return "–"
    return f"{int(row['server_connections']):,} / {int(row['max_connections']):,}"


def fleet_rows(frame: pd.DataFrame) -> pd.DataFrame:
    """fleet_overview's rows with the columns the page adds (status, connections / max, trend as text); the list of
    failing checks and the raw trend stay out (the CSV keeps every figure and its age)."""
    return frame.assign(
        fleet_status=[status_text(row) for _, row in frame.iterrows()],
        connections_of_max=[_connections(row) for _, row in frame.iterrows()],
        transactions_per_s_trend=[sparkline(trend, "/s") for trend in frame["transactions_per_s_trend"]],
    ).drop(columns=["failing_check_list"])


def fleet_summary(frame: pd.DataFrame) -> str:
    """'3 targets: 1 unreachable, 1 with failing checks' over the rows shown."""
    unreachable = int((frame["reachable"] == False).sum())  # noqa: E712 (NaN: not polled yet)
    failing = int((frame["failing_checks"].fillna(0) > 0).sum())
    parts = [f"{unreachable} unreachable" if unreachable else "all reachable",
             *([f"{failing} with failing checks"] if failing else [])]
    return (f"{counted(len(frame), 'target')}: {', '.join(parts)}. "
            "Worst first; every figure says how old it is (ages at the right).")


def failing_links(frame: pd.DataFrame) -> list[tuple[str, str, str]]:
    """(target, page, label) per failing check of every row, worst row first: each opens its page for its target."""
    return [(row["target"], item["page"], f"{row['target']}: {item['check']} — {item['detail']}")
            for _, row in frame.iterrows() for item in (row["failing_check_list"] or [])]
