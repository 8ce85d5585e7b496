"""PostgreSQL buffer cache: hit ratios of the database, of each table and of each index."""
from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame, fetch_row

_NULLABLE_COUNTERS = ("idx_blks_hit", "idx_blks_read", "toast_blks_hit", "toast_blks_read")
_RATIOS = ("heap_hit_ratio", "idx_hit_ratio", "toast_hit_ratio")


@dataclass(frozen=True)
class CacheSample:
    """Cumulative buffer hits and reads of the current database at one moment (pg_stat_database)."""

    blks_hit: int
    blks_read: int
    hit_ratio: float | None  # since the statistics were last reset; None before any block was touched
    sampled_at_epoch: float


def database_cache_hit(engine: sa.Engine) -> CacheSample:
    """Read one CacheSample of the current database (pg_stat_database)."""
    row = fetch_row(engine, "select_cache_database")
    return CacheSample(**{field.name: row[field.name] for field in fields(CacheSample)})


def hit_ratio_between(previous: CacheSample | None, current: CacheSample) -> float | None:
    """Hit ratio over the interval between two samples (CacheSample or ServerSummary: both carry
    blks_hit and blks_read); None without a usable earlier sample."""
    if previous is None:
        return None
    hits = current.blks_hit - previous.blks_hit
    reads = current.blks_read - previous.blks_read
    if hits < 0 or reads < 0 or hits + reads == 0:  # statistics reset or server restarted, or nothing read
        return None
    return hits / (hits + reads)


def table_cache_hit(engine: sa.Engine, *, limit: int = 100) -> pd.DataFrame:
    """Heap, index and TOAST hit ratios per table, most disk reads first (pg_statio_user_tables)."""
    frame = fetch_frame(engine, "select_cache_tables", {"limit": int(limit)})
    # NULL for tables without indexes or TOAST: nullable Int64 keeps the counters integers
    return frame.astype({**{column: "Int64" for column in _NULLABLE_COUNTERS}, **{column: "float64" for column in _RATIOS}})


def index_cache_hit(engine: sa.Engine, *, limit: int = 100) -> pd.DataFrame:
    """Hit ratio per index, most disk reads first (pg_statio_user_indexes)."""
    return fetch_frame(engine, "select_cache_indexes", {"limit": int(limit)})
