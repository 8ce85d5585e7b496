"""Database load over a range, from active session sampling (queries.history.sampling): average active sessions per
bucket split by a dimension, the sessions of one moment and the blocking tree as it was then.

Average active sessions of a bucket = the session samples found active in it / the samples taken in it. Only
state 'active' counts as load (idle in transaction runs nothing); a bucket with no sample has no row (a gap). Buckets
of whole hours read the hours rolled up (activity_*_hourly) and the rest from the 10 s rows.
"""
from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from queries.advisors.sqlcommenter import comment_tags
from queries.history.reads import HistoryRangeError, _checked_range, _hours, _read, _target
from queries.history.sampling import BUCKET_S, bucket_start

# route: the sqlcommenter route tag of each statement's stored text (see _by_route)
LOAD_DIMENSIONS = ("wait_event_type", "wait_event", "statement", "user", "application", "database", "route")
LOAD_BUCKETS_S = (BUCKET_S, 60, 300, 900, 3600, 6 * 3600, 86400)
OTHER = "other"
LOAD_COLUMNS = ["bucket_start", "dimension", "label", "average_active_sessions"]
SESSION_COLUMNS = ["state", "wait_event_type", "wait_event", "query_id", "query", "user_name", "application_name",
                   "database_name", "client_addr", "backend_type", "average_sessions"]
TREE_COLUMNS = ["sampled_at", "pid", "blocking_pid", "root_pid", "depth", "path", "user_name", "database_name", "state",
                "wait_seconds", "lock_mode", "locktype", "relation", "query", "backend_type"]
LOCK_WAIT_COLUMNS = ["sampled_at", "waiting_pid", "blocking_pid", "lock_mode", "locktype", "relation", "wait_seconds", "query"]


@dataclass(frozen=True)
class LoadReference:
    """What a range's samples were taken against: the reference lines of the Database load chart."""

    samples: int
    sampled_s: float  # seconds the samples cover (samples x pace)
    max_connections: int | None
    cpu_count: int | None  # known when the collector runs on the target's machine
    query_id_computed: bool | None  # False: compute_query_id is off, statements have no query id


def load_bucket_seconds(start: datetime, end: datetime, points: int = 360) -> int:
    """The smallest stored-bucket multiple giving at most `points` buckets over the range."""
    span_s = (end - start).total_seconds()
    return next((choice for choice in LOAD_BUCKETS_S if span_s / choice <= points), LOAD_BUCKETS_S[-1])


def _params(store: sa.Engine, target_id: int, start: datetime, end: datetime, bucket_s: int | None) -> dict:
    """The read's bounds and bucket; buckets of whole hours take the complete hours rolled up from the hourly tables."""
    bucket_s = bucket_s or load_bucket_seconds(start, end)
    return {"target_id": target_id, "start": start, "end": end, "bucket": timedelta(seconds=bucket_s),
            **_hours(store, target_id, start, end, use_hours=bucket_s % 3600 == 0)}


def database_load(store: sa.Engine, target: str, start: datetime, end: datetime, *, by: str = "wait_event_type",
                  bucket_s: int | None = None, top: int = 8, query_id: int | None = None) -> pd.DataFrame:
    """Average active sessions per bucket and dimension (`by`: one of LOAD_DIMENSIONS) over [start, end):
    bucket_start, dimension (for statements the query_id), label (for statements the text), average_active_sessions.
    The `top` dimensions by load, the rest summed as 'other'; a zero where a sampled bucket lacks a dimension;
    no row for a bucket with no sample. `query_id`: that statement's sessions only."""
    start, end = _checked_range(start, end)
    if by not in LOAD_DIMENSIONS:
        raise HistoryRangeError(f"cannot split the load by {by!r}; choose one of {', '.join(LOAD_DIMENSIONS)}")
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=LOAD_COLUMNS)
    params = _params(store, target_id, start, end, bucket_s)
    samples = _read(store, "select_load_samples", params)
    load = _read(store, "select_load_buckets", {**params, "by": "statement" if by == "route" else by, "query_id": query_id})
    if by == "route":
        load = _by_route(store, target_id, load)
    if samples.empty:
        return pd.DataFrame(columns=LOAD_COLUMNS)
    totals = load.groupby("dimension")["session_samples"].sum().sort_values(ascending=False, kind="stable")
    kept = list(totals.index[:top])
    load = load.assign(dimension=load["dimension"].where(load["dimension"].isin(kept), OTHER))
    order = kept + ([OTHER] if len(totals) > top else [])
    wide = load.pivot_table(index="bucket_start", columns="dimension", values="session_samples", aggfunc="sum")
    wide = wide.reindex(index=samples["bucket_start"], columns=order).fillna(0)
    per_bucket = wide.div(samples.set_index("bucket_start")["samples"], axis=0)
    frame = per_bucket.rename_axis(columns="dimension").stack().rename("average_active_sessions").reset_index()
    labels = _labels(store, target_id, by, order)
    frame["label"] = frame["dimension"].map(labels).fillna(frame["dimension"])
    return frame[LOAD_COLUMNS]


def _by_route(store: sa.Engine, target_id: int, load: pd.DataFrame) -> pd.DataFrame:
    """Statements' samples summed per route: the route tag of the sqlcommenter comment in each statement's stored
    text. pg_stat_statements keeps the text of a statement's first call, so a statement several routes run counts
    for the route that ran it first (as on the Queries page)."""
    ids = [int(value) for value in load["dimension"].unique() if value != ""]
    texts = _read(store, "select_statement_texts_by_id", {"target_id": target_id, "queryids": ids})
    routes = {str(queryid): comment_tags(query).get("route", "")
              for queryid, query in zip(texts["queryid"], texts["query"], strict=True)}
    load = load.assign(dimension=load["dimension"].map(routes).fillna(""))
    return load.groupby(["bucket_start", "dimension"], as_index=False)["session_samples"].sum()


def _labels(store: sa.Engine, target_id: int, by: str, dimensions: list[str]) -> dict[str, str]:
    """Words for a dimension's values: a statement's stored text; the empty value named."""
    if by != "statement":
        return {"": "(no route tag)" if by == "route" else "(none)"}
    ids = [int(value) for value in dimensions if value not in ("", OTHER)]
    texts = _read(store, "select_statement_texts_by_id", {"target_id": target_id, "queryids": ids})
    named = {str(queryid): query for queryid, query in zip(texts["queryid"], texts["query"], strict=True)}
    return {"": "(no query id)", **{value: named.get(value, f"query id {value}") for value in dimensions
                                    if value not in ("", OTHER)}}


def load_reference(store: sa.Engine, target: str, start: datetime, end: datetime) -> LoadReference:
    """The samples of the range in one figure each: count, seconds covered, max_connections, CPUs, query ids."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return LoadReference(0, 0.0, None, None, None)
    samples = _read(store, "select_load_samples", _params(store, target_id, start, end, 86400))  # days, summed here
    if samples.empty:
        return LoadReference(0, 0.0, None, None, None)
    known = {key: None if samples[key].isna().all() else int(samples[key].max()) for key in ("max_connections", "cpu_count")}
    return LoadReference(int(samples["samples"].sum()), float(samples["sampled_s"].sum()), **known,
                         query_id_computed=bool(samples["query_id_computed"].all()))


def sessions_at(store: sa.Engine, target: str, at: datetime) -> pd.DataFrame:
    """The sessions sampled in the stored bucket holding `at`: each combination's average sessions in it."""
    _checked_range(at - timedelta(seconds=1), at)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=SESSION_COLUMNS)
    return _read(store, "select_sessions_at", {"target_id": target_id, "bucket_start": bucket_start(at)})[SESSION_COLUMNS]


def blocking_tree_at(store: sa.Engine, target: str, at: datetime, *, within_s: float = 30) -> pd.DataFrame:
    """The blocking tree sampled nearest `at` (within within_s seconds), in the live tree's columns and order, with
    its sampled_at; empty when no session waited on a lock then."""
    _checked_range(at - timedelta(seconds=1), at)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=TREE_COLUMNS)
    return _read(store, "select_blocking_tree_at", {"target_id": target_id, "at": at,
                                                    "within": timedelta(seconds=within_s)})[TREE_COLUMNS]


def lock_waits(store: sa.Engine, target: str, start: datetime, end: datetime, *, limit: int = 100_000) -> pd.DataFrame:
    """Every sampled lock wait over [start, end): sampled_at, waiting_pid, blocking_pid, lock_mode, locktype, relation,
    wait_seconds and the waiter's statement (masked), oldest first."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=LOCK_WAIT_COLUMNS)
    return _read(store, "select_lock_waits", {"target_id": target_id, "start": start, "end": end,
                                              "limit": int(limit)})[LOCK_WAIT_COLUMNS]
