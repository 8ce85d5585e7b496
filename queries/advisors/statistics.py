"""Stale statistics: tables whose rows changed more since their last ANALYZE than autovacuum's analyze threshold, and
the statements on them whose plans misestimate the rows they return.

The threshold is autovacuum's own (autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x reltuples, a
table's storage parameters first): past it, autovacuum would analyze the table at its next round, if it is on for the
table and keeps up. The planner meanwhile plans with the old row counts and value distributions. A statement's
misestimate is cheap to see without running it: the rows its generic plan expects (PREPARE under
plan_cache_mode = force_generic_plan, as the index advisor costs statements) against the rows per call
pg_stat_statements counted. The fix is `ANALYZE schema.table`, shown as text, run only as an enabled, confirmed action.
"""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from queries.advisors.catalog import Statement, TableKey, read_catalog, statements_by_text
from queries.advisors.indexes import forget, generic_plan
from queries.connection import fetch_frame, read_only
from queries.statements import statements

MISESTIMATE_COLUMNS = ("misestimated_statements", "worst_misestimate_factor", "worst_statement")


def stale_statistics(engine: sa.Engine, *, statement_limit: int = 100, misestimate_factor: float = 10.0,
                     limit: int = 100) -> pd.DataFrame:
    """Tables modified past their analyze threshold since their last ANALYZE (pg_stat_get_mod_since_analyze,
    pg_class.reloptions), with how many of the top `statement_limit` statements by total time that read them have a
    generic plan misestimating their rows per call by `misestimate_factor` or more (0: no statement is planned)."""
    frame = fetch_frame(engine, "select_stale_statistics", {"limit": int(limit)}).astype({"modified_ratio": "float64"})
    found = _misestimates(engine, frame, statement_limit, misestimate_factor) if statement_limit and len(frame) else {}
    keys = list(zip(frame["schema_name"], frame["table_name"], strict=True))
    counted = [found.get(key, []) for key in keys]
    worst = [max(entries, key=lambda entry: entry[0]) if entries else (None, None) for entries in counted]
    return frame.assign(
        misestimated_statements=pd.Series([len(entries) for entries in counted], index=frame.index, dtype="int64"),
        worst_misestimate_factor=pd.Series([factor for factor, _ in worst], index=frame.index, dtype="float64"),
        worst_statement=pd.Series([statement.query if statement else None for _, statement in worst],
                                  index=frame.index, dtype=object))


def _misestimates(engine: sa.Engine, stale: pd.DataFrame, statement_limit: int,
                  factor: float) -> dict[TableKey, list[tuple[float, Statement]]]:
    """(misestimate factor, statement) per stale table, for the statements reading it whose generic plan is off."""
    tables = set(zip(stale["schema_name"], stale["table_name"], strict=True))
    catalog = read_catalog(engine)
    top = statements_by_text(statements(engine, sort_by="total_exec_time_ms", limit=statement_limit))
    reading = [(s, read) for s in top if s.calls and (read := catalog.tables_read(s.shape) & tables)]
    found: dict[TableKey, list[tuple[float, Statement]]] = {}
    if not reading:
        return found
    with read_only(engine, statement_timeout_ms=10_000) as conn:
        try:
            for statement, read in reading:
                plan = generic_plan(conn, statement)
                if plan is None:
                    continue
                off = misestimate(float(plan["Plan Rows"]), statement.rows / statement.calls)
                if off >= factor:
                    for table in read:
                        found.setdefault(table, []).append((off, statement))
        finally:
            forget(conn)
    return found


def misestimate(estimated_rows: float, actual_rows: float) -> float:
    """max(actual / estimated, estimated / actual), fewer than one row counting as one (as the Explain page does)."""
    estimated, actual = max(estimated_rows, 1.0), max(actual_rows, 1.0)
    return max(actual / estimated, estimated / actual)
