"""Statements from pg_stat_statements: the slow, the frequent and the N+1 suspects."""
from __future__ import annotations

from dataclasses import dataclass

import pandas as pd
import sqlalchemy as sa

from queries.advisors.sqlcommenter import with_comment_tags
from queries.connection import fetch_frame, fetch_row
from queries.errors import ExtensionMissingError, MissingObjectError, PrerequisiteError

SORT_COLUMNS = ("total_exec_time_ms", "mean_exec_time_ms", "calls", "rows", "io_time_ms")
# the cumulative counters of one pg_stat_statements entry (select_statement_counters): the collector keeps their deltas
COUNTER_COLUMNS = ("calls", "total_exec_time_ms", "total_plan_time_ms", "rows", "shared_blks_hit", "shared_blks_read",
                   "shared_blks_dirtied", "shared_blks_written", "temp_blks_read", "temp_blks_written",
                   "io_read_time_ms", "io_write_time_ms", "wal_records", "wal_bytes")
HIDDEN_QUERY_TEXT = "<insufficient privilege>"
EVERY_ROW = 1_000_000


@dataclass(frozen=True)
class StatementsStatus:
    """What pg_stat_statements needs on this server, and the exact fix when it is missing."""

    available: bool
    installed_version: str | None
    preloaded: bool | None  # None: this role may not read shared_preload_libraries
    role_name: str
    database_name: str
    can_read_all_stats: bool
    statement_count: int | None
    tracks_planning: bool | None = None  # pg_stat_statements.track_planning; None: the library is not loaded

    @property
    def ready(self) -> bool:
        return self.installed_version is not None and self.preloaded is not False

    @property
    def fix(self) -> str | None:
        """The setting or statement that makes pg_stat_statements work, or None when it does."""
        if not self.available:
            return ("the pg_stat_statements extension is not available on this server: install "
                    "PostgreSQL's contrib modules (e.g. the postgresql-contrib package)")
        if self.preloaded is False:
            return ("pg_stat_statements is not loaded: add it to shared_preload_libraries in "
                    "postgresql.conf (shared_preload_libraries = 'pg_stat_statements') and restart PostgreSQL")
        if self.installed_version is None:
            return (f"the extension is not installed in database {self.database_name}: run "
                    "CREATE EXTENSION pg_stat_statements; there as a superuser or the database owner")
        return None

    @property
    def planning_note(self) -> str | None:
        """Why planning times read 0, and the fix, when pg_stat_statements does not time planning."""
        if self.tracks_planning is not False:
            return None
        return ("Planning times read 0: pg_stat_statements.track_planning is off. ALTER SYSTEM SET "
                "pg_stat_statements.track_planning = on; SELECT pg_reload_conf(); (as a superuser) times planning too.")

    @property
    def privilege_note(self) -> str | None:
        if self.can_read_all_stats:
            return None
        return (f"role {self.role_name} sees the text of its own statements only; others show as "
                f"{HIDDEN_QUERY_TEXT}. GRANT pg_read_all_stats TO {self.role_name}; (or pg_monitor) to see all")


def statements_status(engine: sa.Engine) -> StatementsStatus:
    """Read pg_extension, pg_settings and role membership to tell whether statements can be read."""
    row = fetch_row(engine, "select_statements_status")
    preloaded, count = _probe_preload(engine, row)
    return StatementsStatus(
        available=bool(row["available"]), installed_version=row["installed_version"],
        preloaded=preloaded, role_name=row["role_name"], database_name=row["database_name"],
        can_read_all_stats=bool(row["is_superuser"] or row["can_read_all_stats"]), statement_count=count,
        tracks_planning=None if row["track_planning"] is None else row["track_planning"] == "on")


def _probe_preload(engine: sa.Engine, status_row: dict) -> tuple[bool | None, int | None]:
    """Reading the view is the only sure test of the preload: it fails with 55000 without it."""
    setting = status_row["shared_preload_libraries"]
    preloaded = None if setting is None else "pg_stat_statements" in setting
    if status_row["installed_version"] is None:
        return preloaded, None
    try:
        return True, int(fetch_row(engine, "count_statements")["statement_count"])
    except PrerequisiteError:
        return False, None


def statements(engine: sa.Engine, *, sort_by: str = "total_exec_time_ms", user: str | None = None,
               min_calls: int = 0, text: str | None = None, limit: int = 100,
               include_nested: bool = False, include_own: bool = False, route: str | None = None) -> pd.DataFrame:
    """Top statements of the current database from pg_stat_statements, sorted in SQL; statements
    nested in functions or DDL only with include_nested (their time is in their caller's too), and
    pgpulse's own monitoring statements only with include_own. Each with the route, controller, action and file
    of its sqlcommenter comment (None when untagged); with `route`, only the statements tagged with that route."""
    if sort_by not in SORT_COLUMNS:
        raise ValueError(f"sort_by must be one of {', '.join(SORT_COLUMNS)}, not {sort_by!r}")
    # a route is URL-encoded in the text: the server keeps the tagged statements, the exact match is made decoded
    params = {"sort_by": sort_by, "user_name": user or None, "min_calls": int(min_calls),
              "query_text": text or None, "limit": EVERY_ROW if route else int(limit),
              "include_nested": bool(include_nested), "include_own": bool(include_own), "tagged_only": bool(route)}
    try:
        frame = with_comment_tags(fetch_frame(engine, "select_statements", params))
    except (MissingObjectError, PrerequisiteError) as exc:
        raise ExtensionMissingError(statements_status(engine).fix or str(exc), sqlstate=exc.sqlstate) from None
    return of_route(frame, route).head(int(limit)) if route else frame


def of_route(frame: pd.DataFrame, route: str | None) -> pd.DataFrame:
    """The rows whose sqlcommenter route is `route` (every row without one)."""
    return frame[frame["route"] == route].reset_index(drop=True) if route else frame


def hidden_statement_count(frame: pd.DataFrame) -> int:
    """Rows whose text this role may not read (needs pg_read_all_stats)."""
    if frame.empty:
        return 0
    return int((frame["query"] == HIDDEN_QUERY_TEXT).sum())


def statement_counters(engine: sa.Engine) -> pd.DataFrame:
    """Every pg_stat_statements entry of the current database with its raw cumulative counters (the collector's read)."""
    return fetch_frame(engine, "select_statement_counters", {"with_text": True})


def statements_info(engine: sa.Engine) -> dict:
    """pg_stat_statements_info's dealloc and stats_reset, and the server's start time: what says counters began again."""
    return fetch_row(engine, "select_statements_info")
