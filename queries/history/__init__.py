"""The history store: its schema (Alembic migrations, schema.py), the delta rules (deltas.py), writes and upkeep
(store.py) and range reads (reads.py). No streamlit here; the collector (top-level collector/) writes, the dashboard
reads.

Range reads, for the pages and the CLI (all take a sync engine on the store and a target's name):
    has_history(store, target) -> bool
    history_extent(store, target) -> (first, last) | None
    statements_over_range(store, target, start, end, *, limit=100, sort_by="total_exec_time_ms",
                          include_nested=False, trend_points=30) -> DataFrame
    statement_series(store, target, queryid, start, end, *, bucket_s=None, include_nested=False) -> DataFrame
    database_series(store, target, start, end, *, bucket_s=None) -> DataFrame
    what_changed(store, target, start, end, *, min_ratio=2.0, min_calls=1) -> DataFrame
"""
from queries.history.reads import (
    SORT_COLUMNS,
    HistoryRangeError,
    bucket_seconds,
    database_series,
    has_history,
    history_extent,
    statement_series,
    statements_over_range,
    what_changed,
)
from queries.history.schema import current_revision, head_revision, migrate

__all__ = ["SORT_COLUMNS", "HistoryRangeError", "bucket_seconds", "current_revision", "database_series", "has_history",
           "head_revision", "history_extent", "migrate", "statement_series", "statements_over_range", "what_changed"]
