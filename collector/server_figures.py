"""A target's server-wide figures the collector keeps in memory (not in the store): replication role and lag, each
standby's lag, the WAL each replication slot retains, every database's transaction-id age, and the health checks'
verdicts. Read at the database pace over the pages' own .sql files and verdicts; /metrics shows the latest
(collector/prometheus.py)."""
from __future__ import annotations

import asyncio
import time
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa

from collector.reader import TargetReader
from queries.health import health_checks

# one transaction: one snapshot of the statistics for all four
SERVER_SQL = ("select_replication_summary", "select_standbys", "select_replication_slots", "select_wraparound_databases")


@dataclass(frozen=True)
class ServerFigures:
    """The latest server-wide figures of one target, and when they were read (epoch seconds)."""

    read_at: float
    in_recovery: bool
    replay_lag_seconds: float  # a standby's replay lag; 0 on a primary (no lag to have)
    standbys: tuple[dict[str, Any], ...]  # select_standbys rows: application_name, client_addr, lag_bytes, ...
    slots: tuple[dict[str, Any], ...]  # select_replication_slots rows: slot_name, database, active, retained_wal_bytes
    wraparound: tuple[dict[str, Any], ...]  # select_wraparound_databases rows: database_name, age_xids, mxid_age
    checks: dict[str, str] = field(default_factory=dict)  # health check name -> 'pass', 'warn' or 'error'


async def read_server_figures(reader: TargetReader, checks_engine: sa.Engine, groups: tuple[str, ...],
                              previous: ServerFigures | None = None) -> ServerFigures:
    """Read the figures on the collector's asyncpg connection, then judge the health checks of `groups` (the
    verdicts read through a psycopg engine, in a thread); the other groups' verdicts are kept from `previous`."""
    rows = await reader.read_rows(*SERVER_SQL)
    summary = rows["select_replication_summary"][0]
    judged = await asyncio.to_thread(health_checks, checks_engine, groups=groups)
    checks = {**(previous.checks if previous else {}), **dict(zip(judged["check"], judged["status"], strict=True))}
    return ServerFigures(time.time(), bool(summary["in_recovery"]), float(summary["replay_lag_seconds"] or 0.0),
                         tuple(rows["select_standbys"]), tuple(rows["select_replication_slots"]),
                         tuple(rows["select_wraparound_databases"]), checks)
