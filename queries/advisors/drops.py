"""What-if drop: would any plan get worse without this unused or duplicate index?

HypoPG 1.4 added hypopg_hide_index(oid): the planner of this backend then plans as if the index were gone (memory
only, inside a READ ONLY transaction, nothing dropped). Each unused or duplicate index is hidden in turn, the top
statements that read its table are costed on their generic plans (as the index advisor costs them) with and without
it, and hypopg_unhide_all_indexes() shows every index again. Detected by the function's presence, not by a version number.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from queries.advisors.catalog import Statement, read_catalog, statements_by_text
from queries.advisors.indexes import forget, generic_plan
from queries.connection import fetch_row, fetch_row_in, read_only
from queries.indexes import duplicate_indexes, unused_indexes
from queries.sql_loader import load_sql
from queries.statements import statements

COLUMNS = ("schema_name", "table_name", "index_name", "flagged_as", "statements_replanned", "statements_worse", "cost_with_index",
           "cost_without_index", "worst_statement", "verdict")
NEEDS_HIDE = "What-if drop needs HypoPG 1.4 or newer (hypopg_hide_index)"


@dataclass(frozen=True)
class HypoPGStatus:
    """HypoPG in this database: its version (None when not installed) and whether it can hide indexes (1.4+)."""

    installed_version: str | None
    can_hide: bool

    @property
    def note(self) -> str | None:
        """The neutral line shown instead of what-if drop when it cannot run, with how to get it."""
        if self.can_hide:
            return None
        have = f"HypoPG {self.installed_version} is installed" if self.installed_version else "HypoPG is not installed"
        return f"{NEEDS_HIDE}: {have}; CREATE EXTENSION hypopg (or ALTER EXTENSION hypopg UPDATE) with 1.4 or newer."


def hypopg_status(engine: sa.Engine) -> HypoPGStatus:
    """Whether HypoPG is installed and has hypopg_hide_index (pg_extension, pg_proc)."""
    row = fetch_row(engine, "select_advisor_extensions")
    return HypoPGStatus(row["hypopg_version"], bool(row["hypopg_can_hide"]))


def what_if_drop(engine: sa.Engine, *, statement_limit: int = 100, min_worse: float = 0.1) -> pd.DataFrame:
    """For each unused or duplicate index (pg_stat_get_numscans, pg_index): the top statements by total time reading its
    table, costed with and without it (HypoPG's hypopg_hide_index, generic plans), and whether any gets `min_worse` or
    more costlier. Empty when HypoPG 1.4+ is not installed (hypopg_status says why)."""
    if not hypopg_status(engine).can_hide:
        return pd.DataFrame(columns=list(COLUMNS))
    flagged = _flagged(engine)
    if flagged.empty:
        return pd.DataFrame(columns=list(COLUMNS))
    catalog = read_catalog(engine)
    top = statements_by_text(statements(engine, sort_by="total_exec_time_ms", limit=statement_limit))
    rows = []
    with read_only(engine, statement_timeout_ms=10_000) as conn:
        try:
            for index in flagged.itertuples(index=False):
                reading = [s for s in top if (index.schema_name, index.table_name) in catalog.tables_read(s.shape)]
                rows.append(_replanned(conn, index, reading, min_worse))
        finally:
            _unhide(conn)
    return pd.DataFrame(rows, columns=list(COLUMNS))


def _flagged(engine: sa.Engine) -> pd.DataFrame:
    """The unused indexes, then the duplicates not already listed, as (schema_name, table_name, index_name, flagged_as)."""
    keys = ["schema_name", "table_name", "index_name"]
    unused = unused_indexes(engine)[keys].assign(flagged_as="unused")
    duplicate = duplicate_indexes(engine)[keys].assign(flagged_as="duplicate")
    return pd.concat([unused, duplicate], ignore_index=True).drop_duplicates(keys, ignore_index=True)


def _costs(conn: sa.Connection, reading: list[Statement]) -> dict[int, float | None]:
    plans = {id(s): generic_plan(conn, s) for s in reading}
    return {key: None if plan is None else float(plan["Total Cost"]) for key, plan in plans.items()}


def _replanned(conn: sa.Connection, index, reading: list[Statement], min_worse: float) -> dict:
    before = _costs(conn, reading)
    with conn.begin_nested():
        hidden = fetch_row_in(conn, load_sql("select_hide_index"), {"schema_name": index.schema_name,
                                                                    "index_name": index.index_name})["hidden"]
        after = _costs(conn, reading) if hidden else {}  # not hidden: dropped or renamed since it was listed
        fetch_row_in(conn, load_sql("select_unhide_all"))
    costed = [(s, before[id(s)], after[id(s)]) for s in reading
              if before[id(s)] is not None and after.get(id(s)) is not None]
    worse = sorted(((s, b, a) for s, b, a in costed if a > b * (1 + min_worse)), key=lambda c: c[1] - c[2])
    verdict = (f"{len(worse)} of {len(costed)} statements get costlier without it, the worst "
               f"{worse[0][1]:,.0f} -> {worse[0][2]:,.0f}" if worse else
               f"no plan of the {len(costed)} statements reading the table gets worse without it" if costed else
               "no statement among the top ones reads its table: nothing to re-plan" if hidden else
               "the index could not be hidden: it was dropped or renamed since it was listed")
    return {"schema_name": index.schema_name, "table_name": index.table_name, "index_name": index.index_name,
            "flagged_as": index.flagged_as, "statements_replanned": len(costed), "statements_worse": len(worse),
            "cost_with_index": sum(b for _, b, _ in costed) if costed else None,
            "cost_without_index": sum(a for _, _, a in costed) if costed else None,
            "worst_statement": worse[0][0].query if worse else None, "verdict": verdict}


def _unhide(conn: sa.Connection) -> None:
    """Hidden indexes outlive the rollback, as hypothetical ones do: show them again, and forget the statements."""
    try:
        with conn.begin_nested():
            fetch_row_in(conn, load_sql("select_unhide_all"))
    except Exception:  # noqa: BLE001 - a connection whose planner may still hide an index must not go back to the pool
        conn.invalidate()
        return
    forget(conn)
