"""Where the disk goes: database, table and index sizes (PgHero's space page, cheap on big catalogs)."""
from __future__ import annotations

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame


def database_sizes(engine: sa.Engine) -> pd.DataFrame:
    """Every database's size from pg_database and pg_database_size, largest first."""
    return fetch_frame(engine, "select_database_sizes")


def table_sizes(engine: sa.Engine, *, limit: int = 1000) -> pd.DataFrame:
    """Exact heap, TOAST and index bytes per table from pg_class, pg_index and pg_relation_size."""
    return fetch_frame(engine, "select_table_sizes", {"limit": int(limit)})


def table_size_estimates(engine: sa.Engine, *, limit: int = 1000) -> pd.DataFrame:
    """table_sizes' columns from pg_class.relpages: no file stat and no lock, for a first paint."""
    return fetch_frame(engine, "select_table_size_estimates", {"limit": int(limit)})


def index_sizes(engine: sa.Engine, *, limit: int = 1000) -> pd.DataFrame:
    """Exact size and scan count of each user index from pg_class, pg_index and pg_relation_size, largest first."""
    return fetch_frame(engine, "select_index_sizes", {"limit": int(limit)})


def relation_sizes(engine: sa.Engine) -> pd.DataFrame:
    """Exact bytes of every user table and index by relid, with their names, from pg_class and pg_relation_size
    (the collector's size snapshot)."""
    return fetch_frame(engine, "select_relation_sizes")


def database_size(engine: sa.Engine) -> pd.DataFrame:
    """The current database's size from pg_database_size (the collector's)."""
    return fetch_frame(engine, "select_database_size")
