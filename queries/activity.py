"""Sessions: connection slots, what each backend is doing, what it waits on and who blocks whom."""
from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame, fetch_row


@dataclass(frozen=True)
class ConnectionUsage:
    """Client-backend slots in use (pg_stat_activity) against max_connections and reserved slots."""

    total_connections: int
    max_connections: int
    superuser_reserved_connections: int
    reserved_connections: int  # pg_use_reserved_connections slots, PostgreSQL 16+; 0 before
    available_connections: int  # slots an ordinary role can still take
    usage_ratio: float  # total_connections / max_connections


def connection_usage(engine: sa.Engine) -> ConnectionUsage:
    """Read connection slot usage from pg_stat_activity and the connection settings."""
    row = fetch_row(engine, "select_connection_usage")
    return ConnectionUsage(**{field.name: row[field.name] for field in fields(ConnectionUsage)})


def connections(engine: sa.Engine) -> pd.DataFrame:
    """Client backends counted by state, database, user, application and client address (pg_stat_activity).

    client_addr is NULL for Unix-socket connections. The dashboard's own sessions are included.
    """
    return fetch_frame(engine, "select_connection_counts")


def activity(engine: sa.Engine, *, limit: int = 500, all_backends: bool = False) -> pd.DataFrame:
    """Every client backend (every backend with all_backends) from pg_stat_activity, busiest and oldest first.

    blocked_by lists the pids from pg_blocking_pids(); idle_seconds is set for every idle state.
    """
    return fetch_frame(engine, "select_activity", {"limit": int(limit), "all_backends": bool(all_backends)})


def long_running_queries(engine: sa.Engine, *, min_seconds: float = 60, limit: int = 100) -> pd.DataFrame:
    """Active client queries running at least min_seconds, longest first, not this one (pg_stat_activity)."""
    return fetch_frame(engine, "select_activity_long_running", {"min_seconds": float(min_seconds), "limit": int(limit)})


def idle_in_transaction(engine: sa.Engine, *, min_seconds: float = 0, limit: int = 100) -> pd.DataFrame:
    """Sessions idle (or aborted) inside an open transaction, longest idle first (pg_stat_activity).

    xact_seconds is NULL for an aborted transaction: PostgreSQL clears xact_start when it fails.
    """
    return fetch_frame(engine, "select_activity_idle_in_transaction",
                       {"min_seconds": float(min_seconds), "limit": int(limit)})


def wait_events(engine: sa.Engine) -> pd.DataFrame:
    """Non-idle backends of every type counted by wait_event_type and wait_event (pg_stat_activity).

    A row with both NULL counts backends running on CPU.
    """
    return fetch_frame(engine, "select_wait_events")


def blocking_tree(engine: sa.Engine, *, limit: int = 500) -> pd.DataFrame:
    """Blocking chains as trees, roots first, from pg_blocking_pids(), pg_locks and pg_stat_activity.

    One row per path: a session blocked by two sessions appears under each. Roots (depth 0) have
    no blocking_pid; their wait_seconds is their transaction age and lock_mode the strongest lock
    they hold on what their first victim awaits.
    """
    return fetch_frame(engine, "select_blocking_tree", {"limit": int(limit)})


def maintenance_progress(engine: sa.Engine) -> pd.DataFrame:
    """Running VACUUM, ANALYZE, CREATE INDEX, CLUSTER and VACUUM FULL (pg_stat_progress_*).

    progress_ratio is heap/sample/index blocks done over total, NULL in phases without a block count.
    """
    return fetch_frame(engine, "select_progress_maintenance")
