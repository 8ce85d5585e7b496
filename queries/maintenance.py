"""Maintenance danger: dead rows and autovacuum, transaction-id wraparound, sequence and integer overflow."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame


def _exact_integers(frame: pd.DataFrame, *columns: str) -> pd.DataFrame:
    """bigint columns that may be NULL as nullable Int64: pandas would otherwise make them float."""
    return frame.astype({column: "Int64" for column in columns})


def vacuum_stats(engine: sa.Engine, *, limit: int = 1000) -> pd.DataFrame:
    """Dead rows, vacuum history and the autovacuum trigger point per table (pg_stat_user_tables)."""
    return _stats_frame(engine, past_threshold_only=False, limit=limit)


def tables_past_autovacuum_threshold(engine: sa.Engine, *, limit: int = 100) -> pd.DataFrame:
    """Tables whose dead rows exceed their autovacuum threshold (pg_stat_user_tables)."""
    return _stats_frame(engine, past_threshold_only=True, limit=limit)


def _stats_frame(engine: sa.Engine, *, past_threshold_only: bool, limit: int) -> pd.DataFrame:
    frame = fetch_frame(engine, "select_vacuum_stats", {"past_threshold_only": past_threshold_only, "limit": int(limit)})
    return frame.astype({"dead_row_ratio": "float64"})  # NULL for empty tables: keep the column numeric


def database_wraparound(engine: sa.Engine) -> pd.DataFrame:
    """Transaction-id and multixact age of every database (pg_database)."""
    return fetch_frame(engine, "select_wraparound_databases")


def table_wraparound(engine: sa.Engine, *, limit: int = 100) -> pd.DataFrame:
    """The oldest tables, materialized views and TOAST tables by relfrozenxid age (pg_class)."""
    return fetch_frame(engine, "select_wraparound_tables", {"limit": int(limit)})


def sequence_overflow(engine: sa.Engine, *, min_ratio: float = 0.0, limit: int = 100) -> pd.DataFrame:
    """Sequences by the share of their range already used (pg_sequence, pg_depend)."""
    frame = fetch_frame(engine, "select_sequence_overflow", {"min_ratio": float(min_ratio), "limit": int(limit)})
    return _exact_integers(frame, "last_value", "values_remaining")


def integer_column_overflow(engine: sa.Engine, *, min_ratio: float = 0.0, limit: int = 100) -> pd.DataFrame:
    """Integer and smallint columns fed by a sequence, by the share of their type's range used (pg_attribute, pg_sequence)."""
    frame = fetch_frame(engine, "select_integer_overflow", {"min_ratio": float(min_ratio), "limit": int(limit)})
    return _exact_integers(frame, "last_value")
