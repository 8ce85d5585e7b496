"""Space and index use over a range, from the collector's size snapshots and index-scan deltas: which tables and
indexes grow fastest (and when they would double at that rate), the database's size over time, and each index's
scans over the range, so "unused" means "not scanned in this range" rather than "since a reset nobody remembers".

Sizes are exact (pg_relation_size, every history_sizes_seconds); growth is measured between the size collection at or
before the range's start (else its first one) and the last one inside it.
"""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from queries.history.reads import _checked_range, _read, _target, bucket_seconds

GROWTH_COLUMNS = ["kind", "schema_name", "table_name", "relation_name", "size_bytes", "growth_bytes",
                  "growth_bytes_per_day", "days_to_double", "start_size_bytes", "measured_from", "measured_to",
                  "estimated"]
INDEX_SCAN_COLUMNS = ["schema_name", "table_name", "index_name", "index_scans", "size_bytes", "droppable",
                      "counted_from", "counted_to"]


def table_growth(store: sa.Engine, target: str, start: datetime, end: datetime, *, limit: int = 1000) -> pd.DataFrame:
    """Each table's and index's growth over [start, end): kind ('table': heap and TOAST; 'index'), schema_name,
    table_name, relation_name, size_bytes (at the last size collection), growth_bytes, growth_bytes_per_day,
    days_to_double (at that rate; NaN unless it grows), start_size_bytes, measured_from and measured_to (the size
    collections compared), estimated (either of them read relpages estimates: the exact read timed out). Biggest
    growers first; empty until two size collections bound the range."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=GROWTH_COLUMNS)
    bounds = _read(store, "select_size_collection_bounds", {"target_id": target_id, "start": start, "end": end}).iloc[0]
    before = pd.notna(bounds["before_start_at"])
    first_at = bounds["before_start_at"] if before else bounds["first_at"]
    last_at = bounds["last_at"]
    estimated = bool(bounds["before_start_estimated" if before else "first_estimated"]) or bool(bounds["last_estimated"])
    if pd.isna(first_at) or pd.isna(last_at) or last_at <= first_at:
        return pd.DataFrame(columns=GROWTH_COLUMNS)
    frame = _read(store, "select_relation_growth", {"target_id": target_id, "from_at": first_at.to_pydatetime(),
                                                    "to_at": last_at.to_pydatetime(), "limit": int(limit)})
    frame = frame.astype({"size_bytes": "int64", "growth_bytes": "int64", "start_size_bytes": "int64"})
    per_day = frame["growth_bytes"] / ((last_at - first_at).total_seconds() / 86400)
    frame = frame.assign(growth_bytes_per_day=per_day,
                         days_to_double=(frame["size_bytes"] / per_day.where(frame["growth_bytes"] > 0)).astype("float64"),
                         measured_from=first_at, measured_to=last_at, estimated=estimated)
    return frame[GROWTH_COLUMNS]


def database_size_series(store: sa.Engine, target: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The database's size at each size collection in [start, end): sampled_at, size_bytes."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=["sampled_at", "size_bytes"])
    return _read(store, "select_database_sizes_over_range", {"target_id": target_id, "start": start, "end": end})


def index_scans_over_range(store: sa.Engine, target: str, start: datetime, end: datetime) -> pd.DataFrame:
    """Each index present at the range's last size collection with its scans over [start, end) (0: not scanned while
    the collector counted): schema_name, table_name, index_name, index_scans, size_bytes, droppable (no constraint
    needs it), counted_from / counted_to (the span the index-scan collections cover). Fewest scans first, then
    largest; empty when no index-scan or size collection falls in the range."""
    return _index_scans(store, target, start, end, only_unused=False)


def unused_indexes_over_range(store: sa.Engine, target: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The droppable indexes not scanned once over [start, end) while the collector counted (index_scans_over_range's
    columns, largest first), with their fix_sql."""
    unused = _index_scans(store, target, start, end, only_unused=True)
    fixes = [f"DROP INDEX CONCURRENTLY {_quoted(schema)}.{_quoted(name)};"
             for schema, name in zip(unused["schema_name"], unused["index_name"], strict=True)]
    return unused.assign(fix_sql=fixes)


def index_scan_coverage(store: sa.Engine, target: str, start: datetime, end: datetime) -> tuple[datetime, datetime] | None:
    """The span the index-scan collections of [start, end) cover (from the first interval's start to the last
    collection), or None when none falls in the range."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return None
    row = _read(store, "select_index_scan_coverage", {"target_id": target_id, "start": start, "end": end}).iloc[0]
    return None if pd.isna(row["counted_from"]) else (row["counted_from"].to_pydatetime(), row["counted_to"].to_pydatetime())


def _index_scans(store: sa.Engine, target: str, start: datetime, end: datetime, *, only_unused: bool) -> pd.DataFrame:
    """index_scans_over_range's rows (only_unused: the droppable ones not scanned once)."""
    columns = INDEX_SCAN_COLUMNS
    covered = index_scan_coverage(store, target, start, end)
    target_id = _target(store, target)
    if covered is None:
        return pd.DataFrame(columns=columns)
    params = {"target_id": target_id, "start": start, "end": end}
    bounds = _read(store, "select_size_collection_bounds", params).iloc[0]
    sized_at = bounds["last_at"] if pd.notna(bounds["last_at"]) else bounds["before_start_at"]
    if pd.isna(sized_at):
        return pd.DataFrame(columns=columns)
    frame = _read(store, "select_index_scans_over_range", {**params, "sized_at": sized_at.to_pydatetime(),
                                                           "only_unused": only_unused})
    frame = frame.astype({"index_scans": "int64", "size_bytes": "int64"})
    return frame.assign(counted_from=covered[0], counted_to=covered[1])[columns]


def index_scan_series(store: sa.Engine, target: str, start: datetime, end: datetime, *, top: int = 5,
                      bucket_s: int | None = None) -> pd.DataFrame:
    """Scans per bucket of the `top` most scanned indexes over [start, end): bucket_start, index_name (schema.index),
    index_scans. A bucket in which an index was not scanned has no row for it."""
    start, end = _checked_range(start, end)
    columns = ["bucket_start", "index_name", "index_scans"]
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=columns)
    bucket = timedelta(seconds=bucket_s or max(bucket_seconds(start, end), 300))
    return _read(store, "select_index_scan_buckets", {"target_id": target_id, "start": start, "end": end,
                                                      "bucket": bucket, "top": int(top)})[columns]


def _quoted(identifier: str) -> str:
    """An identifier in double quotes, always (a reserved word or a capital needs them; any name accepts them)."""
    return '"' + identifier.replace('"', '""') + '"'
