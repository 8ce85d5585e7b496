"""The history store's schema: Alembic migrations (queries/history/migrations) run programmatically, so users need
no alembic.ini. The collector migrates on start; `migrate(conn)` on a new database creates everything.

Every table lives in schema `pgpulse`; time series are partitioned by day (maintenance.ensure_partitions).
"""
from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

SCHEMA = "pgpulse"
MIGRATIONS = Path(__file__).parent / "migrations"


def statements(script: str) -> list[str]:
    """A migration's script as single statements (asyncpg runs one per call): split at each ';' that ends a line,
    except inside a $$-quoted function body."""
    found, current, quoted = [], [], False
    for line in script.splitlines():
        current.append(line)
        quoted ^= line.count("$$") % 2 == 1
        if not quoted and line.rstrip().endswith(";"):
            found.append("\n".join(current).strip())
            current = []
    rest = "\n".join(current).strip()
    return [statement for statement in [*found, rest] if any(
        line.strip() and not line.strip().startswith("--") for line in statement.splitlines())]


def _config(conn: sa.Connection) -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    config.attributes["connection"] = conn
    return config


def migrate(conn: sa.Connection, revision: str = "head") -> None:
    """Upgrade the store on `conn` (a sync connection, or AsyncConnection.run_sync's) to `revision`, and commit."""
    command.upgrade(_config(conn), revision)
    conn.commit()


def downgrade(conn: sa.Connection, revision: str) -> None:
    """Downgrade the store to `revision` ('base' drops every table), and commit."""
    command.downgrade(_config(conn), revision)
    conn.commit()


def current_revision(conn: sa.Connection) -> str | None:
    """The store's schema version, or None for a database never migrated."""
    return MigrationContext.configure(conn, opts={"version_table_schema": SCHEMA}).get_current_revision()


def head_revision() -> str:
    return ScriptDirectory(str(MIGRATIONS)).get_current_head()
