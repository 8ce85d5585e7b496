"""Create the demo blog database (schema.sql + seed.sql) once, and return its URL."""
from __future__ import annotations

import logging
import time
from pathlib import Path

import psycopg
from psycopg import sql
from sqlalchemy.engine import URL, make_url

log = logging.getLogger(__name__)

SCHEMA_SQL = Path(__file__).with_name("schema.sql")
SEED_SQL = Path(__file__).with_name("seed.sql")
# Any constant works; it only has to be the same for every process seeding the database.
SEED_LOCK_KEY = 7_032_017_001


def create_demo_database(admin_url: str, database: str = "pgpulse_demo") -> str:
    """Create and seed `database` unless it is already there; return its URL."""
    admin = make_url(admin_url)
    demo = admin.set(database=database)
    _create_database_if_missing(admin, database)
    with psycopg.connect(_libpq_url(demo), autocommit=True) as conn:
        if _is_seeded(conn):
            log.info("demo database %s already seeded", _describe(demo))
        else:
            _seed(conn, demo)
    return demo.render_as_string(hide_password=False)


def _libpq_url(url: URL) -> str:
    """The URL as libpq wants it: no SQLAlchemy driver suffix such as +psycopg."""
    return url.set(drivername="postgresql").render_as_string(hide_password=False)


def _describe(url: URL) -> str:
    """host:port/database, for logs (never the password)."""
    return f"{url.host or 'localhost'}:{url.port or 5432}/{url.database}"


def _create_database_if_missing(admin: URL, database: str) -> None:
    """CREATE DATABASE, tolerating a concurrent creator (it cannot run in a transaction)."""
    with psycopg.connect(_libpq_url(admin), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            return
        log.info("creating database %s", _describe(admin.set(database=database)))
        try:
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))
        except psycopg.errors.DuplicateDatabase:
            pass  # another process created it between our check and our CREATE


def _is_seeded(conn: psycopg.Connection) -> bool:
    """Schema and data are committed together, so the tables existing means seeded."""
    return conn.execute("SELECT to_regclass('public.user_follows') IS NOT NULL").fetchone()[0]


def _seed(conn: psycopg.Connection, demo: URL) -> None:
    """Apply schema.sql and seed.sql in one transaction, then VACUUM outside it."""
    started = time.monotonic()
    with conn.transaction():
        # Serialises concurrent seeders (dashboard and workload starting together).
        conn.execute("SELECT pg_advisory_xact_lock(%s)", (SEED_LOCK_KEY,))
        if _is_seeded(conn):
            return
        # No parameters: psycopg sends each file as one multi-statement script.
        conn.execute(SCHEMA_SQL.read_text())
        conn.execute(SEED_SQL.read_text())
    # The counter UPDATE left one dead version per post; VACUUM also sets the visibility
    # map so index-only scans work from the first query.
    conn.execute("VACUUM")
    _forget_seed_statements(conn)
    log.info("seeded demo database %s in %.1f s", _describe(demo), time.monotonic() - started)


def _forget_seed_statements(conn: psycopg.Connection) -> None:
    """Drop this database's pg_stat_statements entries, so the seed's million foreign-key
    checks do not outrank the application's statements.  Other databases keep theirs."""
    try:
        conn.execute("SELECT pg_stat_statements_reset(0, oid, 0) FROM pg_database"
                     " WHERE datname = current_database()")
    except psycopg.Error as error:  # e.g. not preloaded: nothing recorded, nothing to forget
        log.info("pg_stat_statements not reset: %s", error.diag.message_primary or type(error).__name__)
