"""N+1 suspects from pg_stat_statements: a key lookup called many times per call of a statement listing the table
a foreign key links it to.

An ORM's lazy load reads one row (or a few) of one table by a key: `users WHERE id = $1` (many-to-one: the
author of each post) or `comments WHERE post_id = $1` (one-to-many: the comments of each post), once per row
of an earlier statement that listed the posts. The database sees neither loop nor ORM, only the counters:
a statement shaped like that, called far more often than a statement reading the table at the other end of
the foreign key, is the N of N+1. Drivers sending a small integer as int2 and a larger one as int4 split one
loop into two queryids with the same text: statements are counted by their text (not by pglast's fingerprint,
which takes `id = $1` and `id IN ($1, $2)` for one statement). The
batched loads of selectinload (`IN (...)`, `= ANY(...)`) are the fix, never a suspect.

In a row, child_table is the table read once per row of the loop, parent_table the one the loop lists.
"""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from queries.advisors.catalog import (
    Catalog,
    ForeignKey,
    Statement,
    TableKey,
    read_catalog,
    singular,
    statements_by_text,
    table_label,
)
from queries.advisors.shape import EQUALITY
from queries.advisors.sqlcommenter import with_comment_tags
from queries.sql_loader import OWN_STATEMENT_MARK
from queries.statements import statement_counters

COLUMNS = ("query", "calls", "calls_per_parent_call", "child_table", "parent_table", "foreign_key", "hint",
           "loader_option", "relationship", "rows_per_call", "total_exec_time_ms", "mean_exec_time_ms", "parent_query",
           "parent_calls", "queryids")
GUESS_NOTE = "model and attribute names are guessed from the table names; the foreign key is exact"


@dataclass(frozen=True)
class Link:
    """How a key lookup's table is tied to the table a loop lists."""

    foreign_key: ForeignKey
    parent: TableKey  # the table the loop lists
    relationship: str  # "many-to-one" (the lookup reads the foreign key's target) or "one-to-many"


def n_plus_one(engine: sa.Engine, *, min_calls: int = 50, min_calls_per_parent_call: float = 2.0,
               max_rows_per_call: float = 10.0, statements_frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """N+1 suspects among the current database's statements (pg_stat_statements, resolved against pg_constraint and
    pg_index), most calls first; see the module docstring for the rule. `statements_frame`: the statements to judge
    instead of pg_stat_statements' since its reset (e.g. queries.history.reads' statements_over_range: the calls of a
    time range; every statement that ran, since a loop's parent is called N times less than its child)."""
    counters = statement_counters(engine) if statements_frame is None else statements_frame
    grouped = statements_by_text(_top_level(counters))
    catalog = read_catalog(engine)
    rows = []
    for statement in grouped:
        if statement.calls < min_calls or statement.rows > max_rows_per_call * statement.calls:
            continue
        if (row := _suspect_row(statement, grouped, catalog, min_calls_per_parent_call)) is not None:
            rows.append(row)
    frame = with_comment_tags(pd.DataFrame(rows, columns=list(COLUMNS)))  # which route runs the loop, when tagged
    return frame.sort_values(["calls", "query"], ascending=[False, True], ignore_index=True) if rows else frame


def _top_level(counters: pd.DataFrame) -> pd.DataFrame:
    """Statements the application sent: not nested in functions (their caller is the loop), not pgpulse's own. Every
    entry, few calls too: a loop's parent statement is called N times less than its child."""
    if counters.empty:
        return counters
    own = counters["query"].str.contains(OWN_STATEMENT_MARK, regex=False)
    # a range read without toplevel holds top-level statements only (statements_over_range's default)
    toplevel = counters["toplevel"] if "toplevel" in counters else True
    return counters[toplevel & ~own]


def _lookup_table(statement: Statement, catalog: Catalog) -> tuple[TableKey, set[str]] | None:
    """The one table a statement reads and the columns it looks up by equality to a parameter, if that is all it is."""
    shape = statement.shape
    if shape is None or len(shape.tables) != 1 or shape.reads_lists:
        return None
    table = catalog.table_of(shape.tables[0])
    if table is None:
        return None
    predicates = catalog.predicates_by_table(shape)[table]
    return table, {p.column for p in predicates if p.kind == EQUALITY and p.constant is None}


def links(table: TableKey, columns: set[str], catalog: Catalog) -> list[Link]:
    """The foreign keys a lookup of `columns` on `table` follows: by a key the foreign key targets (many-to-one),
    or by the foreign key's own columns (one-to-many)."""
    found = []
    keys = [key for key in catalog.unique_keys(table) if set(key) <= columns]
    for foreign_key in catalog.foreign_keys:
        if foreign_key.parent == table and any(set(key) == set(foreign_key.parent_columns) for key in keys):
            found.append(Link(foreign_key, foreign_key.child, "many-to-one"))
        if foreign_key.child == table and set(foreign_key.child_columns) <= columns:
            found.append(Link(foreign_key, foreign_key.parent, "one-to-many"))
    return found


def _reads(statement: Statement, table: TableKey, catalog: Catalog) -> bool:
    return statement.shape is not None and any(catalog.table_of(ref) == table for ref in statement.shape.tables)


def _suspect_row(statement: Statement, grouped: list[Statement], catalog: Catalog, min_ratio: float) -> dict | None:
    lookup = _lookup_table(statement, catalog)
    if lookup is None or not lookup[1]:
        return None
    best: tuple[Statement, Link] | None = None
    for link in links(*lookup, catalog):
        for other in grouped:
            if other is statement or other.calls * min_ratio > statement.calls or not _reads(other, link.parent, catalog):
                continue
            if statement.calls > other.rows:  # a lazy load runs at most once per row its parent returned
                continue
            if best is None or (other.calls, other.total_exec_time_ms) > (best[0].calls, best[0].total_exec_time_ms):
                best = (other, link)
    if best is None:
        return None
    parent, link = best
    return {
        "query": statement.query, "calls": statement.calls, "calls_per_parent_call": statement.calls / parent.calls,
        "child_table": table_label(lookup[0]), "parent_table": table_label(link.parent),
        "foreign_key": str(link.foreign_key), "hint": hint(link), "loader_option": loader_option(link),
        "relationship": link.relationship,
        "rows_per_call": statement.rows / statement.calls, "total_exec_time_ms": statement.total_exec_time_ms,
        "mean_exec_time_ms": statement.total_exec_time_ms / statement.calls, "parent_query": parent.query,
        "parent_calls": parent.calls, "queryids": ", ".join(str(queryid) for queryid in statement.queryids),
    }


def loader_option(link: Link) -> str:
    """The SQLAlchemy loader option that turns the loop into one more statement (names guessed from the tables)."""
    foreign_key = link.foreign_key
    if link.relationship == "one-to-many":
        return f"selectinload({singular(foreign_key.parent[1])}.{foreign_key.child[1]})"
    column = foreign_key.child_columns[0]
    single_id = column.endswith("_id") and len(foreign_key.child_columns) == 1
    name = column[:-3] if single_id else singular(foreign_key.parent[1]).lower()
    return f"joinedload({singular(foreign_key.child[1])}.{name})"


def hint(link: Link) -> str:
    """The foreign key and the loader options that fix the loop, in SQLAlchemy terms."""
    option = loader_option(link)
    attribute = option[option.index("(") + 1:-1]
    if link.relationship == "one-to-many":
        return f"{link.foreign_key}: load `{attribute}` with `{option}` ({GUESS_NOTE})"
    return f"{link.foreign_key}: load `{attribute}` with `{option}` or `selectinload({attribute})` ({GUESS_NOTE})"
