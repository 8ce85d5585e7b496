"""Range reads of the history store: DataFrames with units in column names, for any time range.

`store` is a SQLAlchemy engine on the store (queries.connection.make_engine(history_url)); `target` a target's name
as configured. Times are timezone-aware; a bucket is labelled by its start (UTC). A gap is a gap: a bucket without a
collection (collector or target down) has no row at all, never a zero; a bucket that was collected but in which a
statement did not run has its zero.
"""
from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from queries.advisors.sqlcommenter import with_comment_tags
from queries.connection import fetch_frame_in, read_only
from queries.errors import PgPulseError
from queries.history._sql import store_sql
from queries.history.store import ROLL_UP_AFTER_DAYS, find_target_id

SORT_COLUMNS = ("total_exec_time_ms", "mean_exec_time_ms", "calls", "rows", "io_time_ms", "temp_blks_written", "wal_bytes")
BUCKET_CHOICES_S = (60, 300, 900, 3600, 6 * 3600, 86400)
TREND_POINTS = 30  # points in a statement's calls/s trend


class HistoryRangeError(PgPulseError):
    kind = "history_range"


def bucket_seconds(start: datetime, end: datetime, points: int = 240, now: datetime | None = None) -> int:
    """The smallest bucket that gives at most `points` buckets over the range; an hour where the range reaches
    statement data already rolled up to hours."""
    span_s = (end - start).total_seconds()
    rolled = start < (now or datetime.now(UTC)) - timedelta(days=ROLL_UP_AFTER_DAYS)
    for choice in BUCKET_CHOICES_S:
        if span_s / choice <= points and (choice >= 3600 or not rolled):
            return choice
    return BUCKET_CHOICES_S[-1]


def _checked_range(start: datetime, end: datetime) -> tuple[datetime, datetime]:
    if start.tzinfo is None or end.tzinfo is None:
        raise HistoryRangeError("a history range needs timezone-aware start and end times (e.g. datetime.now(UTC))")
    if end <= start:
        raise HistoryRangeError(f"the range ends ({end.isoformat()}) before it starts ({start.isoformat()})")
    return start, end


def _hours(store: sa.Engine, target_id: int, start: datetime, end: datetime, use_hours: bool = True) -> dict:
    """Where a read takes whole hours from the hourly roll-up (hours_from to hours_to) and the rest per collection:
    complete hours inside the range that are rolled up (before the target's watermark). Never both for one time."""
    if not use_hours:
        return {"hours_from": start, "hours_to": start}
    watermark = _read(store, "select_rollup_watermark", {"target_id": target_id})
    rolled_until = watermark["rolled_until"].iloc[0].to_pydatetime() if len(watermark) else start
    hours_from = min(_hour(start, up=True), end)
    return {"hours_from": hours_from, "hours_to": max(hours_from, min(_hour(end), rolled_until))}


def _hour(moment: datetime, up: bool = False) -> datetime:
    floor = moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    return floor + timedelta(hours=1) if up and floor != moment else floor


def _read(store: sa.Engine, name: str, params: dict) -> pd.DataFrame:
    with read_only(store, statement_timeout_ms=30_000) as conn:
        return fetch_frame_in(conn, store_sql(name).text, params)


def _target(store: sa.Engine, target: str) -> int | None:
    with read_only(store) as conn:
        return find_target_id(conn, target)


def history_extent(store: sa.Engine, target: str) -> tuple[datetime, datetime] | None:
    """The first and last collection the store holds for a target, or None when it holds none."""
    target_id = _target(store, target)
    if target_id is None:
        return None
    row = _read(store, "select_history_extent", {"target_id": target_id}).iloc[0]
    return None if pd.isna(row["first_at"]) else (row["first_at"].to_pydatetime(), row["last_at"].to_pydatetime())


def has_history(store: sa.Engine, target: str) -> bool:
    """Whether the store holds any collection for the target (a page shows history, or one line on starting it)."""
    return history_extent(store, target) is not None


def statements_over_range(store: sa.Engine, target: str, start: datetime, end: datetime, *, limit: int = 100,
                          sort_by: str = "total_exec_time_ms", include_nested: bool = False,
                          trend_points: int = TREND_POINTS) -> pd.DataFrame:
    """Each statement's figures over [start, end) from its deltas (pg_stat_statements via the store): queryid, query,
    calls, total/mean/plan time (ms), rows, hit_ratio, shared blocks hit/read, io_time_ms, temp blocks, WAL records and
    bytes, time_share_ratio (of the range's execution time), calls_per_s_trend: a list of calls/s per bucket
    (None where nothing was collected), oldest first, and its sqlcommenter tags (route, controller, action, file)."""
    start, end = _checked_range(start, end)
    if sort_by not in SORT_COLUMNS:
        raise HistoryRangeError(f"cannot sort statements by {sort_by!r}; choose one of {', '.join(SORT_COLUMNS)}")
    target_id = _target(store, target)
    if target_id is None:
        return with_comment_tags(_empty_statements())
    frame = _over_range(store, target_id, start, end, include_nested=include_nested, sort_by=sort_by, limit=limit)
    if frame.empty:
        return with_comment_tags(_empty_statements())
    trends = _calls_trends(store, target_id, start, end, frame["queryid"].tolist(), include_nested, trend_points)
    # the route, controller, action and file of each statement's sqlcommenter comment, as on the live view
    return with_comment_tags(frame.assign(calls_per_s_trend=[trends.get(queryid) for queryid in frame["queryid"]]))


def _over_range(store: sa.Engine, target_id: int, start: datetime, end: datetime, *, include_nested: bool = False,
                sort_by: str = "total_exec_time_ms", limit: int = 1_000_000) -> pd.DataFrame:
    return _read(store, "select_statements_over_range", {
        "target_id": target_id, "start": start, "end": end, **_hours(store, target_id, start, end),
        "include_nested": include_nested, "sort_by": sort_by, "limit": int(limit)})


def _empty_statements() -> pd.DataFrame:
    return pd.DataFrame(columns=["queryid", "query", "calls", "total_exec_time_ms", "mean_exec_time_ms", "total_plan_time_ms",
                                 "rows", "hit_ratio", "shared_blks_hit", "shared_blks_read", "io_time_ms", "temp_blks_read",
                                 "temp_blks_written", "wal_records", "wal_bytes", "time_share_ratio", "first_seen_at",
                                 "calls_per_s_trend"])


def _bucket_starts(start: datetime, end: datetime, bucket_s: int) -> list[pd.Timestamp]:
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    first = origin + timedelta(seconds=(start - origin).total_seconds() // bucket_s * bucket_s)
    return list(pd.date_range(first, end, freq=f"{bucket_s}s", inclusive="left"))


def _calls_trends(store: sa.Engine, target_id: int, start: datetime, end: datetime, queryids: list[int],
                  include_nested: bool, points: int) -> dict[int, list[float | None]]:
    bucket_s = bucket_seconds(start, end, points)
    params = {"target_id": target_id, "start": start, "end": end, "bucket": timedelta(seconds=bucket_s)}
    covered = _read(store, "select_statement_collections", params).set_index("bucket_start")["covered_s"]
    buckets = _read(store, "select_statement_buckets", {**params, **_hours(store, target_id, start, end, bucket_s >= 3600),
                                                        "include_nested": include_nested, "queryids": queryids})
    starts = pd.DatetimeIndex(_bucket_starts(start, end, bucket_s))
    calls = (buckets.pivot_table(index="bucket_start", columns="queryid", values="calls", aggfunc="sum")
             .reindex(index=starts, columns=queryids).fillna(0.0))
    # a bucket no collection covered is a gap (NaN, shown blank), not a bucket without calls
    per_s = calls.div(covered.reindex(starts).to_numpy(), axis=0)
    return {queryid: [None if pd.isna(value) else float(value) for value in per_s[queryid].to_numpy()]
            for queryid in queryids}


def statement_series(store: sa.Engine, target: str, queryid: int, start: datetime, end: datetime, *,
                     bucket_s: int | None = None, include_nested: bool = False) -> pd.DataFrame:
    """One statement per bucket: bucket_start, covered_s, calls, calls_per_s, mean_exec_time_ms, rows_per_call,
    shared_blks_hit, shared_blks_read, temp_blks_read, temp_blks_written, wal_bytes, total_exec_time_ms. A bucket
    collected while the statement did not run has calls 0 and no mean time; a bucket not collected has no row."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    columns = ["bucket_start", "covered_s", "calls", "calls_per_s", "mean_exec_time_ms", "rows_per_call", "shared_blks_hit",
               "shared_blks_read", "temp_blks_read", "temp_blks_written", "wal_bytes", "total_exec_time_ms"]
    if target_id is None:
        return pd.DataFrame(columns=columns)
    bucket = timedelta(seconds=bucket_s or bucket_seconds(start, end))
    params = {"target_id": target_id, "start": start, "end": end, "bucket": bucket}
    covered = _read(store, "select_statement_collections", params)[["bucket_start", "covered_s"]]
    hours = _hours(store, target_id, start, end, bucket >= timedelta(hours=1))
    deltas = _read(store, "select_statement_buckets", {**params, **hours, "include_nested": include_nested,
                                                       "queryids": [int(queryid)]})
    frame = covered.merge(deltas.drop(columns="queryid"), on="bucket_start", how="left")
    counts = ["calls", "rows", "shared_blks_hit", "shared_blks_read", "temp_blks_read", "temp_blks_written", "wal_bytes",
              "total_exec_time_ms"]
    frame[counts] = frame[counts].astype("float64").fillna(0)  # collected, and the statement did not run: a real zero
    calls = frame["calls"].where(frame["calls"] > 0)
    frame = frame.assign(calls_per_s=frame["calls"] / frame["covered_s"], mean_exec_time_ms=frame["total_exec_time_ms"] / calls,
                         rows_per_call=frame["rows"] / calls)
    return frame[columns].reset_index(drop=True)


def database_series(store: sa.Engine, target: str, start: datetime, end: datetime, *,
                    bucket_s: int | None = None) -> pd.DataFrame:
    """The database per bucket: bucket_start, covered_s, transactions_per_s, commits_per_s, rollbacks_per_s, hit_ratio,
    tuples returned/fetched/inserted/updated/deleted per s, temp_bytes_per_s, deadlocks, conflicts, connections_<state>
    (mean over the bucket's samples), statement_time_ms_per_s (top-level statements' execution time) and evictions
    (pg_stat_statements entries evicted). Rows only for buckets something was collected in; NaN for a figure whose
    collection is missing there."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=["bucket_start", "covered_s", "transactions_per_s", "hit_ratio"])
    bucket = timedelta(seconds=bucket_s or bucket_seconds(start, end))
    params = {"target_id": target_id, "start": start, "end": end, "bucket": bucket}
    frame = _database_rates(_read(store, "select_database_buckets", params))
    frame = frame.merge(_connections(_read(store, "select_connection_buckets", params)), on="bucket_start", how="outer")
    frame = frame.merge(_statement_time(store, {**params, **_hours(store, target_id, start, end, bucket >= timedelta(hours=1))}),
                        on="bucket_start", how="outer")
    return frame.sort_values("bucket_start").reset_index(drop=True)


def _database_rates(deltas: pd.DataFrame) -> pd.DataFrame:
    per_s = deltas["covered_s"].where(deltas["covered_s"] > 0)
    blocks = (deltas["blks_hit"] + deltas["blks_read"]).astype("float64")
    rates = {"transactions_per_s": (deltas["xact_commit"] + deltas["xact_rollback"]) / per_s,
             "commits_per_s": deltas["xact_commit"] / per_s, "rollbacks_per_s": deltas["xact_rollback"] / per_s,
             "hit_ratio": deltas["blks_hit"] / blocks.where(blocks > 0),
             **{f"{name}_per_s": deltas[name] / per_s
                for name in ("tup_returned", "tup_fetched", "tup_inserted", "tup_updated", "tup_deleted", "temp_bytes")}}
    return deltas[["bucket_start", "covered_s", "deadlocks", "conflicts"]].assign(**rates)


def _connections(samples: pd.DataFrame) -> pd.DataFrame:
    if samples.empty:
        return pd.DataFrame(columns=["bucket_start"])
    wide = samples.pivot_table(index="bucket_start", columns="state", values="connections", aggfunc="sum").fillna(0)
    wide.columns = [f"connections_{state.replace(' ', '_').replace('(', '').replace(')', '')}" for state in wide.columns]
    return wide.assign(connections=wide.sum(axis=1)).reset_index()


def _statement_time(store: sa.Engine, params: dict) -> pd.DataFrame:
    covered = _read(store, "select_statement_collections", {key: params[key] for key in ("target_id", "start", "end", "bucket")})[
        ["bucket_start", "covered_s", "evictions"]]
    time_ms = _read(store, "select_statement_time_buckets", params)
    frame = covered.merge(time_ms, on="bucket_start", how="left").fillna({"total_exec_time_ms": 0.0})
    return frame.assign(statement_time_ms_per_s=frame["total_exec_time_ms"] / frame["covered_s"])[
        ["bucket_start", "statement_time_ms_per_s", "evictions"]]


def what_changed(store: sa.Engine, target: str, start: datetime, end: datetime, *, min_ratio: float = 2.0,
                 min_calls: int = 1) -> pd.DataFrame:
    """Statements whose mean time over [start, end) is at least min_ratio times the one of the previous window of the
    same length (change 'slower'), and statements first seen in this window while the previous one was collected
    (change 'new'): queryid, query, change, calls, total_exec_time_ms, mean_exec_time_ms,
    previous_mean_exec_time_ms, mean_time_ratio. Slower first, by ratio; then new, by total time."""
    start, end = _checked_range(start, end)
    columns = ["queryid", "query", "change", "calls", "total_exec_time_ms", "mean_exec_time_ms",
               "previous_mean_exec_time_ms", "mean_time_ratio"]
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=columns)
    previous_start = start - (end - start)
    current = _over_range(store, target_id, start, end)
    current = current[current["calls"] >= int(min_calls)]
    previous = _over_range(store, target_id, previous_start, start)[["queryid", "calls", "mean_exec_time_ms"]]
    both = current.merge(previous.rename(columns={"calls": "previous_calls", "mean_exec_time_ms": "previous_mean_exec_time_ms"}),
                         on="queryid", how="left")
    both["mean_time_ratio"] = both["mean_exec_time_ms"] / both["previous_mean_exec_time_ms"].where(
        both["previous_mean_exec_time_ms"] > 0)
    ran_before = both["previous_calls"].fillna(0) > 0
    slower = both[ran_before & (both["mean_time_ratio"] >= float(min_ratio))].assign(change="slower")
    collected_before = not _read(store, "select_statement_collections", {
        "target_id": target_id, "start": previous_start, "end": start, "bucket": end - start}).empty
    new = both[~ran_before & (both["first_seen_at"] >= start) & collected_before].assign(change="new")
    ordered = pd.concat([slower.sort_values(["mean_time_ratio", "queryid"], ascending=[False, True]),
                         new.sort_values(["total_exec_time_ms", "queryid"], ascending=[False, True])])
    return ordered[columns].reset_index(drop=True)
