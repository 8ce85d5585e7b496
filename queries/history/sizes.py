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
                  "growth_bytes_per_day", "days_to_double", "start_size_bytes", "measured_from", "measured_to"]
INDEX_SCAN_COLUMNS = ["schema_name", "table_name", "index_name", "index_scans", "size_bytes", "droppable",
                      "counted_from", "counted_to"]


def table_growth(store: sa.Engine, target: str, start: datetime, end: datetime, *, limit: int = 1000) -> pd.DataFrame:
    """Each table's and index's growth over [start, end): kind ('table': heap and TOAST; 'index'), schema_name,
    table_name, relation_name, size_bytes (at the last size collection), growth_bytes, growth_bytes_per_day,
    days_to_double (at that rate; None unless it grows), start_size_bytes, measured_from and measured_to (the size
    collections compared). Biggest growers first; empty until two size collections bound the range."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=GROWTH_COLUMNS)
    bounds = _read(store, "select_size_collection_bounds", {"target_id": target_id, "start": start, "end": end}).iloc[0]
    first_at = bounds["before_start_at"] if pd.notna(bounds["before_start_at"]) else bounds["first_at"]
    last_at = bounds["last_at"]
    if pd.isna(first_at) or pd.isna(last_at) or last_at <= first_at:
        return pd.DataFrame(columns=GROWTH_COLUMNS)
    before = relation_sizes_at(store, target_id, first_at.to_pydatetime())[["relid", "size_bytes"]]
    after = relation_sizes_at(store, target_id, last_at.to_pydatetime())
    # a relation created inside the range grew from nothing
    frame = after.merge(before.rename(columns={"size_bytes": "start_size_bytes"}), on="relid", how="left")
    frame["start_size_bytes"] = frame["start_size_bytes"].fillna(0).astype("int64")
    days = (last_at - first_at).total_seconds() / 86400
    growth = frame["size_bytes"] - frame["start_size_bytes"]
    per_day = growth / days
    frame = frame.assign(growth_bytes=growth, growth_bytes_per_day=per_day,
                         days_to_double=(frame["size_bytes"] / per_day.where(growth > 0)).astype("float64"),
                         measured_from=first_at, measured_to=last_at)
    frame = frame.sort_values(["growth_bytes", "size_bytes", "schema_name", "relation_name"],
                              ascending=[False, False, True, True], kind="stable")
    return frame[GROWTH_COLUMNS].head(int(limit)).reset_index(drop=True)


def relation_sizes_at(store: sa.Engine, target_id: int, at: datetime) -> pd.DataFrame:
    """Every relation present at the size collection `at`: relid, kind, schema_name, relation_name, table_name,
    droppable, size_bytes."""
    frame = _read(store, "select_relation_sizes_at", {"target_id": target_id, "at": at})
    return frame.astype({"relid": "int64", "size_bytes": "int64"})


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
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=INDEX_SCAN_COLUMNS)
    return _index_scans(store, target_id, start, end)[INDEX_SCAN_COLUMNS]


def _index_scans(store: sa.Engine, target_id: int, start: datetime, end: datetime) -> pd.DataFrame:
    """index_scans_over_range's rows with each index's relid."""
    params = {"target_id": target_id, "start": start, "end": end}
    scans = _read(store, "select_index_scans_over_range", params)
    bounds = _read(store, "select_size_collection_bounds", params).iloc[0]
    last_sized = bounds["last_at"] if pd.notna(bounds["last_at"]) else bounds["before_start_at"]
    if scans.empty or pd.isna(scans["counted_from"].iloc[0]) or pd.isna(last_sized):
        return pd.DataFrame(columns=["relid", *INDEX_SCAN_COLUMNS])
    present = relation_sizes_at(store, target_id, last_sized.to_pydatetime())
    present = present[present["kind"] == "index"].rename(columns={"relation_name": "index_name"})
    counts = scans.dropna(subset=["relid"]).astype({"relid": "int64"})[["relid", "index_scans"]]
    frame = present.merge(counts, on="relid", how="left")
    frame = frame.assign(index_scans=frame["index_scans"].fillna(0).astype("int64"),
                         counted_from=scans["counted_from"].iloc[0], counted_to=scans["counted_to"].iloc[0])
    frame = frame.sort_values(["index_scans", "size_bytes", "schema_name", "index_name"],
                              ascending=[True, False, True, True], kind="stable")
    return frame[["relid", *INDEX_SCAN_COLUMNS]].reset_index(drop=True)


def unused_indexes_over_range(store: sa.Engine, target: str, start: datetime, end: datetime) -> pd.DataFrame:
    """The droppable indexes not scanned once over [start, end) while the collector counted (index_scans_over_range's
    columns, largest first), with their fix_sql."""
    frame = index_scans_over_range(store, target, start, end)
    unused = frame[(frame["index_scans"] == 0) & (frame["droppable"].fillna(False).astype(bool))]
    unused = unused.sort_values(["size_bytes", "schema_name", "index_name"], ascending=[False, True, True], kind="stable")
    fixes = [f"DROP INDEX CONCURRENTLY {_quoted(schema)}.{_quoted(name)};"
             for schema, name in zip(unused["schema_name"], unused["index_name"], strict=True)]
    return unused.assign(fix_sql=fixes).reset_index(drop=True)


def index_scan_series(store: sa.Engine, target: str, start: datetime, end: datetime, *, top: int = 5,
                      bucket_s: int | None = None) -> pd.DataFrame:
    """Scans per bucket of the `top` most scanned indexes over [start, end): bucket_start, index_name (schema.index),
    index_scans. A bucket in which an index was not scanned has no row for it."""
    start, end = _checked_range(start, end)
    columns = ["bucket_start", "index_name", "index_scans"]
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=columns)
    frame = _index_scans(store, target_id, start, end)
    busiest = frame[frame["index_scans"] > 0].nlargest(int(top), "index_scans")
    if busiest.empty:
        return pd.DataFrame(columns=columns)
    names = dict(zip(busiest["relid"], busiest["schema_name"] + "." + busiest["index_name"], strict=True))
    bucket = timedelta(seconds=bucket_s or max(bucket_seconds(start, end), 300))
    series = _read(store, "select_index_scan_buckets", {"target_id": target_id, "start": start, "end": end,
                                                        "bucket": bucket, "relids": [int(relid) for relid in names]})
    return series.assign(index_name=series["relid"].astype("int64").map(names))[columns]


def _quoted(identifier: str) -> str:
    """An identifier in double quotes, always (a reserved word or a capital needs them; any name accepts them)."""
    return '"' + identifier.replace('"', '""') + '"'
