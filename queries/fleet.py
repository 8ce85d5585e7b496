"""The fleet: every target's reachability and server figures, read once per server (one row per database of it), for
the Fleet page, the fleet report and the collector. A target is a database; its server is its host:port.

`FleetFigures` is one target's latest figures as the collector holds them in memory (Collector.fleet.latest) and
writes them to the store (pgpulse.fleet_state).
"""
from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

import pandas as pd
import sqlalchemy as sa

from queries.connection import describe_target, fetch_frame

XID_LIMIT = 2 ** 31  # transaction IDs a database can use before wraparound stops writes
SERVER_COLUMNS = ("server_version", "server_started_at", "max_connections", "server_connections", "database_connections",
                  "oldest_xact_age_s", "wraparound_age_xids", "freeze_max_age_xids", "in_recovery", "replication_lag_s")


@dataclass(frozen=True)
class FailingCheck:
    check: str
    page: str
    detail: str


@dataclass(frozen=True)
class FleetFigures:
    """One target's latest fleet figures: reachable or not (why, in words), and its server's figures as last read."""

    target: str
    checked_at: datetime  # the last attempt
    reachable: bool
    error: str | None = None
    unreachable_since: datetime | None = None
    read_at: datetime | None = None  # the last successful read: the server figures are this old
    server_version: str | None = None
    server_started_at: datetime | None = None
    max_connections: int | None = None
    server_connections: int | None = None
    database_connections: int | None = None
    oldest_xact_age_s: float | None = None
    wraparound_age_xids: int | None = None
    freeze_max_age_xids: int | None = None
    in_recovery: bool | None = None
    replication_lag_s: float | None = None
    live_checks: tuple[FailingCheck, ...] | None = None  # None: not judged yet
    live_checks_at: datetime | None = None
    catalog_checks: tuple[FailingCheck, ...] | None = None
    catalog_checks_at: datetime | None = None

    @property
    def wraparound_ratio(self) -> float | None:
        """age(datfrozenxid) / 2^31: at 1 the database stops taking writes."""
        return None if self.wraparound_age_xids is None else self.wraparound_age_xids / XID_LIMIT

    @property
    def failing_checks(self) -> tuple[FailingCheck, ...]:
        return (*(self.live_checks or ()), *(self.catalog_checks or ()))


def server_key(database_url: str) -> str:
    """host:port of a target: targets sharing it share one read of the server-wide figures."""
    return describe_target(database_url).rsplit("/", 1)[0]


def database_name(database_url: str) -> str:
    return describe_target(database_url).rsplit("/", 1)[1]


def fleet_databases(engine: sa.Engine) -> pd.DataFrame:
    """Every database of the engine's server that accepts connections, with the server-wide figures repeated on each
    row: database_name, server_version, server_started_at, max_connections, server_connections, database_connections,
    oldest_xact_age_s, wraparound_age_xids, freeze_max_age_xids, in_recovery, replication_lag_s
    (pg_database, pg_stat_activity, pg_stat_replication)."""
    return fetch_frame(engine, "select_fleet_databases")


def reached(previous: FleetFigures | None, target: str, at: datetime, row: dict | None) -> FleetFigures:
    """A target's figures after a successful read of its server (`row`: its database's row, None when the server has
    no such database)."""
    if row is None:
        return unreached(previous, target, at, "the database does not exist on the server (or does not accept connections)")
    base = previous if previous is not None else FleetFigures(target, at, True)
    return replace(base, checked_at=at, reachable=True, error=None, unreachable_since=None, read_at=at,
                   **{column: _plain(row.get(column)) for column in SERVER_COLUMNS})


def unreached(previous: FleetFigures | None, target: str, at: datetime, error: str) -> FleetFigures:
    """A target's figures after a failed read: the last figures kept (with their age), the reason in words."""
    base = previous if previous is not None else FleetFigures(target, at, False)
    since = base.unreachable_since if not base.reachable and base.unreachable_since else at
    return replace(base, checked_at=at, reachable=False, error=error, unreachable_since=since)


def failing_of(checks: pd.DataFrame) -> tuple[FailingCheck, ...]:
    """The warnings of queries.health.health_checks' rows, in their order."""
    warned = checks[checks["status"] == "warn"]
    return tuple(FailingCheck(row.check, row.page, row.detail) for row in warned.itertuples())


def _plain(value):
    """numpy / pandas scalars as Python values (the store and JSON want them)."""
    if value is None or value is pd.NaT:
        return None
    if hasattr(value, "item"):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    return value
