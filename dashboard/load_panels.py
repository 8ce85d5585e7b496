"""Database load panels (active session history): the Activity page's chart and moment, the statement page's and
the Overview's small charts. Data from queries.history.load through dashboard.history's cached reads."""
from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import pandas as pd
import streamlit as st

from dashboard.components import table_with_csv
from dashboard.history import moment_read, range_read, setting_markers
from dashboard.history_charts import HEIGHT, load_chart
from queries.history.load import load_bucket_seconds

SPLITS = {"wait_event_type": "Wait event type", "wait_event": "Wait event", "statement": "Statement", "user": "User",
          "application": "Application", "database": "Database", "route": "Route"}
MOMENT_KEY = "a_moment"
MOMENT_FORMAT = "%Y-%m-%d %H:%M:%S"
QUERY_ID_OFF = ("compute_query_id is off on this server: sessions have no query id, so the load cannot be split by "
                "statement. `ALTER SYSTEM SET compute_query_id = on` (or load pg_stat_statements) to get it.")


def _bucket_words(bucket_s: int | None) -> str:
    if not bucket_s:
        return "per bucket"
    return f"per {bucket_s} s" if bucket_s < 60 else f"per {bucket_s // 60} min" if bucket_s < 3600 else \
        f"per {bucket_s // 3600} h"


def load_bucket(context) -> int:
    """The bucket width the range's load is read with (database_load's default for the range)."""
    return load_bucket_seconds(context.time_range.start, context.time_range.end)


def _set_moment(value: datetime | pd.Timestamp | str | None) -> None:
    if value is None or value == "":
        return
    moment = pd.Timestamp(value)
    moment = moment.tz_localize(UTC) if moment.tzinfo is None else moment.tz_convert(UTC)
    st.session_state[MOMENT_KEY] = moment.strftime(MOMENT_FORMAT)


def _picked_on_chart(chart_key: str) -> Callable[[], None]:
    def picked() -> None:
        points = st.session_state[chart_key].selection.get("points") or []
        if points:
            _set_moment(points[0].get("x"))
    return picked


def _picked_lock_wait() -> None:
    _set_moment(st.session_state.get("a_lock_pick"))


def database_load(context) -> None:
    """Average active sessions over the range, stacked by the chosen split, then the moment picked."""
    by = st.segmented_control("Split the load by", list(SPLITS), format_func=SPLITS.get, default="wait_event_type",
                              key="a_load_by") or "wait_event_type"
    reference = range_read("load_reference", context)
    if reference.samples == 0:
        st.info(f"No session was sampled during the {context.time_range.label}: the collector samples "
                "pg_stat_activity every history_activity_seconds (README *Database load*).", icon=":material/history:")
        return
    if by == "statement" and reference.query_id_computed is False:
        st.info(QUERY_ID_OFF, icon=":material/info:")
    frame = range_read("database_load", context, by=by)
    bucket = load_bucket(context)
    st.plotly_chart(load_chart(frame, cpu_count=reference.cpu_count, max_connections=reference.max_connections,
                               bucket_s=bucket, title=f"Average active sessions {_bucket_words(bucket)}, by "
                               f"{SPLITS[by].lower()}", markers=setting_markers(context)),
                    key="a_load_chart", on_select=_picked_on_chart("a_load_chart"), selection_mode="points")
    references = [f"{reference.cpu_count} CPUs" if reference.cpu_count else "CPU count unknown (the target is on "
                  "another machine)", f"max_connections {reference.max_connections:,}"]
    st.caption(f"Sessions in state active, sampled every {reference.sampled_s / reference.samples:g} s "
               f"({reference.samples:,} samples); CPU is active without a wait. {' · '.join(references)}. "
               "Click the chart, pick a lock wait or type a moment to see the sessions and the blocking tree then.")
    moment_picker(context)


def moment_picker(context) -> None:
    waits = range_read("lock_waits", context)
    first, second = st.columns(2)
    if not waits.empty:
        moments = waits.groupby("sampled_at").agg(waiters=("waiting_pid", "nunique"), longest=("wait_seconds", "max"))
        moments = moments.sort_index(ascending=False).head(500)
        words = {at.isoformat(): f"{at:%Y-%m-%d %H:%M:%S} UTC · {row.waiters} waiting, longest {row.longest:,.1f} s"
                 for at, row in moments.iterrows()}
        first.selectbox(f"Lock waits sampled ({len(moments):,} moments)", list(words), index=None, format_func=words.get,
                        placeholder="Pick a moment a session waited on a lock", key="a_lock_pick",
                        on_change=_picked_lock_wait)
    else:
        first.caption(f"No session waited on a lock during the {context.time_range.label}.")
    typed = second.text_input("Moment (UTC)", key=MOMENT_KEY, placeholder="2026-01-31 14:05:00",
                              help="a time in the range; the sessions of its 10 s and the blocking tree nearest it")
    if typed:
        show_moment(context, typed.strip())


def show_moment(context, typed: str) -> None:
    try:
        at = datetime.strptime(typed, MOMENT_FORMAT).replace(tzinfo=UTC)
    except ValueError:
        st.error(f"The moment {typed!r} must read like 2026-01-31 14:05:00 (UTC, to the second).")
        return
    st.markdown(f"**Sessions sampled at {at:%Y-%m-%d %H:%M:%S} UTC** (the 10 s that hold it)")
    table_with_csv(moment_read("sessions_at", context, at), "sessions_at", first=["average_sessions", "state",
                   "wait_event_type", "wait_event", "query"], empty="No session was active in those 10 s.")
    tree = moment_read("blocking_tree_at", context, at)
    if tree.empty:
        st.caption("No session waited on a lock within 30 s of that moment.")
        return
    sampled = tree["sampled_at"].iloc[0]
    st.markdown(f"**Blocking tree as it was at {sampled:%Y-%m-%d %H:%M:%S} UTC**")
    tree_table(tree.drop(columns="sampled_at"), "blocking_tree_at")


def tree_table(frame: pd.DataFrame, name: str) -> None:
    """A blocking tree (live or stored), each session indented under the one blocking it."""
    shown = frame.assign(session=["    " * int(depth) + ("└─ " if depth else "") + str(pid)
                                  for pid, depth in zip(frame["pid"], frame["depth"], strict=True)])
    table_with_csv(shown, name, column_order=["session", "blocking_pid", "wait_seconds", "query", "lock_mode",
                                              "locktype", "relation", "user_name", "state", "path"])


def statement_load(context, queryid: int) -> None:
    """A statement's load over the range: its sessions' average active sessions, stacked by wait event type."""
    frame = range_read("database_load", context, by="wait_event_type", query_id=queryid)
    if frame.empty or not frame["average_active_sessions"].any():
        st.caption(f"No session was sampled running this statement during the {context.time_range.label} (the "
                   "collector samples pg_stat_activity every history_activity_seconds; a statement shorter than that "
                   "is seen now and then only).")
        return
    bucket = load_bucket(context)
    st.plotly_chart(load_chart(frame, bucket_s=bucket, height=260,
                               title=f"Its load: average active sessions {_bucket_words(bucket)}, by wait event type",
                               markers=setting_markers(context)),
                    key="st_load_chart")


def overview_load(context) -> None:
    """The Overview's small load chart: average active sessions over the range, the top wait apart from the rest."""
    frame = range_read("database_load", context, by="wait_event_type", top=1)
    if frame.empty:
        st.caption(f"Active sessions: none sampled during the {context.time_range.label} (the collector samples "
                   "pg_stat_activity every history_activity_seconds).")
        return
    top = frame["label"].iloc[0]
    bucket = load_bucket(context)
    st.plotly_chart(load_chart(frame, bucket_s=bucket, height=HEIGHT, title=f"Active sessions · top wait: {top}",
                               axis_title="sessions", markers=setting_markers(context)), key="oh_load_chart")
