"""The history store as the pages see it: the sidebar's time range, and cached range reads.

Range reads go to the store (never the monitored server). A rolling range ("last 1 h") ends at the end of the
current refresh interval, so every viewer of the interval shares one read of the store.
"""
from __future__ import annotations

import math
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import pandas as pd
import sqlalchemy as sa
import streamlit as st

from dashboard.data import engine_for, settings
from queries import catalogue
from queries.connection import make_engine
from queries.errors import PgPulseError
from queries.history import load, reads, redis_history, settings_history, sizes
from queries.history.fleet import fleet_overview
from queries.statements import EVERY_ROW

RANGES_S = {"15 min": 900, "1 h": 3600, "6 h": 6 * 3600, "24 h": 86400, "7 d": 7 * 86400}
CUSTOM = "custom"
DEFAULT_RANGE = "1 h"
HOW_TO_START = ("History is not being kept yet: `make run` starts the collector, or run "
                "`python -m dashboard collect` beside the dashboard (the store is `history_url`, see README *History*).")


@dataclass(frozen=True)
class TimeRange:
    start: datetime
    end: datetime
    label: str  # "last 1 h", or the custom bounds

    @property
    def seconds(self) -> float:
        return (self.end - self.start).total_seconds()


def rolling(label: str, refresh_seconds: int, now: float | None = None) -> TimeRange:
    """The last RANGES_S[label] seconds, ending at the end of the current refresh interval (so the newest collection
    is in, and every viewer of the interval shares one read)."""
    step = max(int(refresh_seconds), 1)
    end = datetime.fromtimestamp(math.ceil((now or time.time()) / step) * step, UTC)
    return TimeRange(end - timedelta(seconds=RANGES_S[label]), end, f"last {label}")


def custom(start: datetime | None, end: datetime | None) -> TimeRange | None:
    """A range typed by the viewer (taken as UTC), or None while it is incomplete or backwards."""
    if start is None or end is None:
        return None
    start, end = (moment.replace(tzinfo=moment.tzinfo or UTC) for moment in (start, end))
    if end <= start:
        return None
    return TimeRange(start, end, f"{start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")


def render_range_picker(refresh_seconds: int) -> TimeRange | None:
    """The sidebar's time range (kept in the URL as ?range=, shared by every page with history); None when
    no store is configured."""
    if not settings().history_url:
        return None
    choices = [*RANGES_S, CUSTOM]
    label = st.selectbox("Time range", choices, index=choices.index(DEFAULT_RANGE), key="range", bind="query-params",
                         format_func=lambda choice: "Custom …" if choice == CUSTOM else f"Last {choice}",
                         help="Pages with history (Queries, a statement, the Overview's charts, Activity's Database load) show "
                         "this range")
    if label != CUSTOM:
        return rolling(label, refresh_seconds)
    now = datetime.now(UTC).replace(second=0, microsecond=0, tzinfo=None)
    start = st.datetime_input("From (UTC)", now - timedelta(hours=1), key="range_from", format="YYYY-MM-DD")
    end = st.datetime_input("To (UTC)", now, key="range_to", format="YYYY-MM-DD")
    chosen = custom(start, end)
    if chosen is None:
        st.caption("The range must end after it starts; showing the last hour.")
        return rolling(DEFAULT_RANGE, refresh_seconds)
    return chosen


@st.cache_resource(max_entries=4, show_spinner=False)
def _store_engine(url: str) -> sa.Engine:
    return make_engine(url, pool_size=2, application_name="pgpulse-dashboard")


def store() -> sa.Engine | None:
    url = settings().history_url
    return _store_engine(url) if url else None


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _range_read(name: str, url: str, target: str, start: datetime, end: datetime,
                kwargs_items: tuple[tuple[str, Any], ...]) -> Any:
    return RANGE_READS[name](_store_engine(url), target, start, end, **dict(kwargs_items))


# the range reads of queries.history.reads by name, each as (store, target, start, end, **kwargs)
RANGE_READS = {
    "statements_over_range": reads.statements_over_range,
    "statement_series": lambda store, target, start, end, *, queryid, **options: reads.statement_series(
        store, target, queryid, start, end, **options),
    "database_series": reads.database_series,
    "what_changed": reads.what_changed,
    "database_load": load.database_load,
    "load_reference": load.load_reference,
    "lock_waits": load.lock_waits,
    "setting_changes": settings_history.setting_changes,
    "redis_series": redis_history.redis_series,
}
# space and index use over the range (queries.history.sizes)
RANGE_READS.update(table_growth=sizes.table_growth, database_size_series=sizes.database_size_series,
                   index_scans_over_range=sizes.index_scans_over_range, index_scan_coverage=sizes.index_scan_coverage,
                   unused_indexes_over_range=sizes.unused_indexes_over_range, index_scan_series=sizes.index_scan_series)
# reads of one moment, each as (store, target, at)
MOMENT_READS = {"sessions_at": load.sessions_at, "blocking_tree_at": load.blocking_tree_at}


def range_read(name: str, context, **kwargs: Any) -> Any:
    """RANGE_READS[name] over the sidebar's range for the context's target, cached per range and arguments."""
    span = context.time_range
    return _range_read(name, settings().history_url, context.target.name, span.start, span.end,
                       tuple(sorted(kwargs.items())))


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _advice_over_range(name: str, url: str, pool_size: int, history_url: str, target: str, start: datetime,
                       end: datetime) -> Any:
    frame = reads.statements_over_range(_store_engine(history_url), target, start, end, limit=EVERY_ROW)
    return catalogue.metric(name).read(engine_for(url, pool_size), statements_frame=frame)


def advice_over_range(read, context) -> Any:
    """An advisor (suggested_indexes, n_plus_one) on the statements that ran in the sidebar's range (the store's
    deltas), judged against the server's catalog now. A rolling range's bounds move at the advisor's pace, not at
    every refresh: advising plans every candidate, a cost paid once per pace as for the since-reset view."""
    declared = catalogue.metric_of(read)
    span = context.time_range
    start, end = span.start, span.end
    if span.label.startswith("last "):
        every_s = context.every_s(declared.pace)
        end = datetime.fromtimestamp(math.ceil(end.timestamp() / every_s) * every_s, UTC)
        start = end - (span.end - span.start)
    return _advice_over_range(declared.name, context.target.database_url, settings().pool_size,
                              settings().history_url, context.target.name, start, end)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _moment_read(name: str, url: str, target: str, at: datetime) -> Any:
    return MOMENT_READS[name](_store_engine(url), target, at)


def moment_read(name: str, context, at: datetime) -> Any:
    """MOMENT_READS[name] at one moment for the context's target, cached (a past moment's samples do not change)."""
    return _moment_read(name, settings().history_url, context.target.name, at)


def setting_markers(context) -> pd.DataFrame | None:
    """The setting changes over the sidebar's range (one cached read per range), for the charts' markers= option;
    None without a store, or when it cannot be read (a chart without markers beats no chart)."""
    if context.time_range is None:
        return None
    try:
        return range_read("setting_changes", context)
    except PgPulseError:
        return None


@st.cache_data(ttl=30, max_entries=64, show_spinner=False)
def _has_history(url: str, target: str) -> bool:
    return reads.has_history(_store_engine(url), target)


def history_note(context) -> str | None:
    """None when the target has history to show; else the one line saying why not and how to start it."""
    if context.time_range is None:
        return HOW_TO_START
    try:
        if _has_history(settings().history_url, context.target.name):
            return None
    except PgPulseError as exc:
        return f"The history store cannot be read: {exc}"
    return (f"No history for {context.target.name} yet: the collector's first collections arrive within a minute of "
            "its start (`make run` starts it; or `python -m dashboard collect`).")


@st.cache_data(ttl=3600, max_entries=32, show_spinner=False)
def _fleet_read(url: str, names: tuple[str, ...], interval: int) -> pd.DataFrame:
    return fleet_overview(_store_engine(url), list(names))


def fleet_read(names: list[str], refresh_seconds: int) -> pd.DataFrame:
    """The Fleet page's rows (queries.history.fleet.fleet_overview), read from the store once per refresh interval."""
    return _fleet_read(settings().history_url, tuple(names), int(time.time() // max(refresh_seconds, 1)))


def bucket_of(frame: pd.DataFrame) -> int | None:
    """The bucket width a series was read with (seconds), from its first two buckets."""
    if len(frame) < 2:
        return None
    return int(frame["bucket_start"].sort_values().diff().min().total_seconds())
