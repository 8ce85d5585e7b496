"""The history store's SQL, one file per statement in queries/history/sql/ (the store is any PostgreSQL 14+: one variant)."""
from __future__ import annotations

from functools import cache
from pathlib import Path

import sqlalchemy as sa

from queries.sql_loader import mark_own

STORE_SQL_DIR = Path(__file__).parent / "sql"


@cache
def store_sql(name: str) -> sa.TextClause:
    """queries/history/sql/<name>.sql as a text() clause, marked as pgpulse's own."""
    path = STORE_SQL_DIR / f"{name}.sql"
    if not path.exists():
        raise KeyError(f"no SQL file for store query {name!r} in {STORE_SQL_DIR}")
    return sa.text(mark_own(path.read_text()))
