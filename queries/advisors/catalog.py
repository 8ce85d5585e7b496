"""The catalog facts both advisors resolve statements against: tables and columns, keys, foreign keys, indexes."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from queries.advisors.shape import Predicate, Shape, TableRef, statement_shape
from queries.connection import fetch_frame_in, read_only, server_version_num
from queries.sql_loader import load_sql
from queries.statements import HIDDEN_QUERY_TEXT

TableKey = tuple[str, str]  # (schema, table)


def table_label(key: TableKey) -> str:
    """users for public.users, sales.orders otherwise: the way a person writes it on the default search_path."""
    return key[1] if key[0] == "public" else f"{key[0]}.{key[1]}"


@dataclass(frozen=True)
class ForeignKey:
    child: TableKey
    child_columns: tuple[str, ...]
    parent: TableKey
    parent_columns: tuple[str, ...]

    def __str__(self) -> str:
        child = ", ".join(f"{table_label(self.child)}.{column}" for column in self.child_columns)
        parent = ", ".join(f"{table_label(self.parent)}.{column}" for column in self.parent_columns)
        return f"{child} -> {parent}"


@dataclass
class Catalog:
    columns: pd.DataFrame  # select_table_columns
    indexes: pd.DataFrame  # select_table_indexes
    foreign_keys: list[ForeignKey]
    server_version_num: int
    _columns_of: dict[TableKey, set[str]] = field(default_factory=dict)
    _column_rows: dict[tuple[str, str, str], dict] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for key, group in self.columns.groupby(["schema_name", "table_name"], sort=False):
            self._columns_of[key] = set(group["column_name"])
        for row in self.columns.to_dict("records"):
            self._column_rows[(row["schema_name"], row["table_name"], row["column_name"])] = row

    def column(self, table: TableKey, column: str) -> dict | None:
        """The column's select_table_columns row (pg_stats' n_distinct, avg_width; its table's rows and writes)."""
        return self._column_rows.get((*table, column))

    def _table_row(self, table: TableKey) -> dict | None:
        return next((self._column_rows[(*table, column)] for column in sorted(self._columns_of.get(table, ()))), None)

    def estimated_rows(self, table: TableKey) -> int:
        row = self._table_row(table)
        return int(row["estimated_rows"] or 0) if row else 0

    def writes_per_second(self, table: TableKey) -> float | None:
        """Rows inserted, updated and deleted per second since the statistics reset: the price every index pays."""
        row = self._table_row(table)
        return None if row is None or pd.isna(row["writes_per_second"]) else float(row["writes_per_second"])

    def table_indexes(self, table: TableKey) -> list[dict]:
        frame = self.indexes
        return frame[(frame["schema_name"] == table[0]) & (frame["table_name"] == table[1])].to_dict("records")

    def table_of(self, ref: TableRef) -> TableKey | None:
        """The catalog table a FROM item names; without a schema, public's first (the default search_path)."""
        if ref.schema:
            return (ref.schema, ref.name) if (ref.schema, ref.name) in self._columns_of else None
        candidates = sorted((key for key in self._columns_of if key[1] == ref.name), key=lambda key: key[0] != "public")
        return candidates[0] if candidates else None

    def tables_read(self, shape: Shape | None) -> set[TableKey]:
        """The catalog tables a statement's shape reads (none for a statement without one)."""
        if shape is None:
            return set()
        return {key for ref in shape.tables if (key := self.table_of(ref)) is not None}

    def unique_keys(self, table: TableKey) -> list[tuple[str, ...]]:
        """The column lists of the table's valid unique indexes (its primary key among them)."""
        rows = self.indexes[(self.indexes["schema_name"] == table[0]) & (self.indexes["table_name"] == table[1])
                            & self.indexes["is_unique"] & self.indexes["is_valid"] & ~self.indexes["is_partial"]]
        return [tuple(columns) for columns in rows["key_columns"] if None not in columns]

    def predicates_by_table(self, shape: Shape) -> dict[TableKey, list[Predicate]]:
        """Each predicate on the table its column belongs to (by qualifier, else by the only table having that column)."""
        tables = {ref: key for ref in shape.tables if (key := self.table_of(ref))}
        found: dict[TableKey, list[Predicate]] = {key: [] for key in tables.values()}
        for predicate in shape.predicates:
            if predicate.qualifier:
                owners = {key for ref, key in tables.items() if ref.answers_to(predicate.qualifier)}
            else:
                owners = {key for key in tables.values() if predicate.column in self._columns_of[key]}
            if len(owners) == 1 and predicate.column in self._columns_of[(owner := owners.pop())]:
                found[owner].append(predicate)
        return found


@dataclass(frozen=True)
class Statement:
    """The pg_stat_statements entries of one text (spacing aside), added up."""

    query: str  # the text of the most-called entry
    queryids: tuple[int, ...]
    calls: int
    rows: int
    total_exec_time_ms: float
    shape: Shape | None


def statements_by_text(frame: pd.DataFrame) -> list[Statement]:
    """pg_stat_statements rows added up by text: drivers sending a small integer as int2 and a larger one as int4
    split one statement into two queryids with the same text (pglast's fingerprint would also merge `id = $1` with
    `id IN ($1, $2)`, which must stay apart)."""
    groups: dict[str, list] = {}
    for row in frame.itertuples():
        if row.query == HIDDEN_QUERY_TEXT or pd.isna(row.queryid):  # another role's statement: no text to advise on
            continue
        key = " ".join(row.query.split())
        groups.setdefault(key, []).append(row)
    found = []
    for members in groups.values():
        top = max(members, key=lambda member: member.calls)
        found.append(Statement(top.query, tuple(sorted(int(m.queryid) for m in members)), sum(int(m.calls) for m in members),
                               sum(int(m.rows) for m in members), sum(float(m.total_exec_time_ms) for m in members),
                               statement_shape(top.query)))
    return found


def _foreign_keys(frame: pd.DataFrame) -> list[ForeignKey]:
    return [ForeignKey((row.child_schema, row.child_table), tuple(row.child_columns),
                       (row.parent_schema, row.parent_table), tuple(row.parent_columns)) for row in frame.itertuples()]


def read_catalog(engine: sa.Engine) -> Catalog:
    """Columns, indexes and foreign keys of every user table, read in one transaction."""
    version = server_version_num(engine)
    with read_only(engine) as conn:
        columns = fetch_frame_in(conn, load_sql("select_table_columns", version))
        indexes = fetch_frame_in(conn, load_sql("select_table_indexes", version))
        foreign_keys = fetch_frame_in(conn, load_sql("select_foreign_keys", version))
    return Catalog(columns, indexes, _foreign_keys(foreign_keys), version)


def singular(table: str) -> str:
    """posts -> Post, categories -> Category, user_follows -> UserFollow: a model name guessed from a table name."""
    words = table.split("_")
    last = words[-1]
    if last.endswith("ies") and len(last) > 3:
        last = last[:-3] + "y"
    elif last.endswith(("ses", "xes", "ches", "shes")):
        last = last[:-2]
    elif last.endswith("s") and not last.endswith("ss"):
        last = last[:-1]
    return "".join(word.capitalize() for word in [*words[:-1], last])
