"""Index health: unused, redundant and invalid indexes, cache hits, and tables that need one.

Every flagged row says why (`reason`) and which statement would fix it (`fix_sql`, built by
PostgreSQL's format('%I') so identifiers are quoted by the server). Nothing here runs a fix.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame, fetch_row


def unused_indexes(engine: sa.Engine, *, max_scans: int = 0, limit: int = 500) -> pd.DataFrame:
    """Droppable indexes scanned at most max_scans times, from pg_index, pg_constraint and pg_stat_get_numscans."""
    return _unused_indexes(engine, max_scans, limit).drop(columns="unused_count")


def unused_index_count(engine: sa.Engine, *, max_scans: int = 0) -> int:
    """How many indexes unused_indexes would list; sizes only the largest one (for health checks)."""
    frame = _unused_indexes(engine, max_scans, limit=1)
    return 0 if frame.empty else int(frame["unused_count"].iloc[0])


def _unused_indexes(engine: sa.Engine, max_scans: int, limit: int) -> pd.DataFrame:
    return fetch_frame(engine, "select_unused_indexes", {"max_scans": int(max_scans), "limit": int(limit)})


def duplicate_indexes(engine: sa.Engine, *, limit: int = 500) -> pd.DataFrame:
    """Indexes whose keys lead another valid index of the same kind, from pg_index columns."""
    return fetch_frame(engine, "select_duplicate_indexes", {"limit": int(limit)})


def invalid_indexes(engine: sa.Engine) -> pd.DataFrame:
    """Invalid indexes from pg_index that no CREATE INDEX CONCURRENTLY is building right now."""
    return fetch_frame(engine, "select_invalid_indexes")


def index_hit_rates(engine: sa.Engine, *, limit: int = 500) -> pd.DataFrame:
    """Per-index buffer hits and disk reads from pg_statio_user_indexes, most disk reads first."""
    return fetch_frame(engine, "select_index_hit_rates", {"limit": int(limit)})


def index_hit_ratio(engine: sa.Engine) -> float | None:
    """Buffer-cache hit ratio of all user indexes (pg_statio_user_indexes' counters); None before any read."""
    ratio = fetch_row(engine, "select_index_hit_ratio")["hit_ratio"]
    return None if ratio is None else float(ratio)


def seq_scan_tables(engine: sa.Engine, *, min_rows: int = 10_000, min_seq_ratio: float = 0.5,
                    min_full_reads: float = 100.0, limit: int = 100) -> pd.DataFrame:
    """Tables of at least min_rows rows by rows read sequentially per second since the statistics reset (the
    pg_stat_user_tables counters): those read mostly by sequential scans, or read in full min_full_reads times or
    more however many index scans they also had."""
    params = {"min_rows": int(min_rows), "min_seq_ratio": float(min_seq_ratio),
              "min_full_reads": float(min_full_reads), "limit": int(limit)}
    return fetch_frame(engine, "select_seq_scan_tables", params)


def index_scans(engine: sa.Engine) -> pd.DataFrame:
    """Every user index's scan counter by relid (pg_stat_get_numscans) with the database's stats_reset (the collector's)."""
    return fetch_frame(engine, "select_index_scans")
