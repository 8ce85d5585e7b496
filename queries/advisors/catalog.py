"""The catalog facts both advisors resolve statements against: tables and columns, keys, foreign keys, indexes."""
from __future__ import annotations

from dataclasses import dataclass, field

import pandas as pd
import sqlalchemy as sa

from queries.advisors.shape import Predicate, Shape, TableRef
from queries.connection import fetch_frame_in, read_only, server_version_num
from queries.sql_loader import load_sql

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

    def __post_init__(self) -> None:
        for key, group in self.columns.groupby(["schema_name", "table_name"], sort=False):
            self._columns_of[key] = set(group["column_name"])

    def table_of(self, ref: TableRef) -> TableKey | None:
        """The catalog table a FROM item names; without a schema, public's first (the default search_path)."""
        if ref.schema:
            return (ref.schema, ref.name) if (ref.schema, ref.name) in self._columns_of else None
        candidates = sorted((key for key in self._columns_of if key[1] == ref.name), key=lambda key: key[0] != "public")
        return candidates[0] if candidates else None

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
