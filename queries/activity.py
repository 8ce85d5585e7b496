"""Sessions: connection slots, what each backend is doing, what it waits on and who blocks whom.

Every session panel is derived in Python from one read of pg_stat_activity (select_activity_snapshot, whose
rows also carry the connection settings and the role): the standalone functions and activity_snapshot
share the derivations below, so a panel filters, orders and limits its rows in one place.
"""
from __future__ import annotations

import itertools
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from queries.advisors.sqlcommenter import with_comment_tags
from queries.connection import (
    fetch_frame,
    fetch_frame_in,
    fetch_rows_in,
    frame_of,
    read_only,
    server_version_num,
)
from queries.errors import PgPulseError, translate
from queries.sql_loader import load_sql


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
    """Connection slot usage: client backends in pg_stat_activity against the connection settings."""
    settings, sessions = _session_read(engine)
    return _usage(settings, len(_clients(sessions)))


def connections(engine: sa.Engine) -> pd.DataFrame:
    """Client backends counted by state, database, user, application and client address (pg_stat_activity).

    client_addr is NULL for Unix-socket connections. The dashboard's own sessions are included.
    """
    return _connection_counts(_clients(_session_read(engine)[1]))


def connection_states(engine: sa.Engine) -> pd.DataFrame:
    """Client backends of the current database by state (pg_stat_activity): the collector's connections gauge."""
    return fetch_frame(engine, "select_connection_states")


def active_sessions(engine: sa.Engine) -> pd.DataFrame:
    """Non-idle client backends, not this one, with their wait, query_id, user, application, database and client
    (pg_stat_activity): what the collector samples every history_activity_seconds. One row with pid NULL when none."""
    return fetch_frame(engine, "select_active_sessions")


def activity(engine: sa.Engine, *, limit: int = 500, all_backends: bool = False) -> pd.DataFrame:
    """Every client backend (every backend with all_backends) from pg_stat_activity, busiest and oldest first.

    blocked_by lists the pids from pg_blocking_pids(); idle_seconds is set for every idle state.
    """
    sessions = _session_read(engine)[1]
    return _activity(sessions if all_backends else _clients(sessions), int(limit))


def long_running_queries(engine: sa.Engine, *, min_seconds: float = 60, limit: int = 100) -> pd.DataFrame:
    """Active client queries running at least min_seconds, longest first, not this one (pg_stat_activity)."""
    settings, sessions = _session_read(engine)
    return _long_running_frame(settings, _clients(sessions), min_seconds, limit)


def idle_in_transaction(engine: sa.Engine, *, min_seconds: float = 0, limit: int = 100) -> pd.DataFrame:
    """Sessions idle (or aborted) inside an open transaction, longest idle first (pg_stat_activity).

    xact_seconds is NULL for an aborted transaction: PostgreSQL clears xact_start when it fails.
    """
    return _idle_in_transaction_frame(_clients(_session_read(engine)[1]), min_seconds, limit)


def wait_events(engine: sa.Engine) -> pd.DataFrame:
    """Non-idle backends of every type counted by wait_event_type and wait_event (pg_stat_activity).

    A row with both NULL counts backends running on CPU.
    """
    return _wait_events(_session_read(engine)[1])


def blocking_tree(engine: sa.Engine, *, limit: int = 500) -> pd.DataFrame:
    """Blocking chains as trees, roots first, from pg_blocking_pids(), pg_locks and pg_stat_activity.

    One row per path: a session blocked by two sessions appears under each. Roots (depth 0) have
    no blocking_pid; their wait_seconds is their transaction age and lock_mode the strongest lock
    they hold on what their first victim awaits.
    """
    return fetch_frame(engine, "select_blocking_tree", {"limit": int(limit)})


def maintenance_progress(engine: sa.Engine) -> pd.DataFrame:
    """Running VACUUM, ANALYZE, CREATE INDEX, CLUSTER and VACUUM FULL (pg_stat_progress_*, pg_stat_activity).

    progress_ratio is heap/sample/index blocks done over total, NULL in phases without a block count.
    """
    version = server_version_num(engine)
    with read_only(engine) as conn:
        settings, sessions = _read_sessions(conn, version)
        return _maintenance_progress(conn, version, settings, sessions)


# ---------------------------------------------------------------------------------------------
# The whole Activity page in one transaction

# The columns of the frames derived from the one read of the sessions (and of the blocking tree's query)
ACTIVITY_COLUMNS = ("pid", "user_name", "database_name", "application_name", "client_addr", "state", "wait_event_type",
                    "wait_event", "backend_start", "xact_start", "query_start", "state_change", "query_seconds",
                    "xact_seconds", "idle_seconds", "blocked_by", "query", "backend_type")
CONNECTION_KEYS = ("state", "database_name", "user_name", "application_name", "client_addr")
LONG_RUNNING_COLUMNS = ("pid", "user_name", "database_name", "application_name", "client_addr", "wait_event_type",
                        "wait_event", "query_start", "query_seconds", "xact_seconds", "query")
IDLE_IN_TRANSACTION_COLUMNS = ("pid", "user_name", "database_name", "application_name", "client_addr", "state",
                               "xact_start", "state_change", "idle_seconds", "xact_seconds", "backend_xid", "last_query")
BLOCKING_TREE_COLUMNS = ("pid", "blocking_pid", "root_pid", "depth", "path", "user_name", "database_name", "state",
                         "wait_seconds", "lock_mode", "locktype", "relation", "query", "backend_type")
MAINTENANCE_COLUMNS = ("pid", "operation", "database_name", "relation", "phase", "progress_ratio", "started_seconds",
                       "backend_type", "query")
SETTINGS_COLUMNS = ("max_connections", "superuser_reserved_connections", "reserved_connections", "own_pid", "role_name",
                    "can_read_all_stats", "progress_backends")
_IDLE_IN_TRANSACTION = ("idle in transaction", "idle in transaction (aborted)")


@dataclass(frozen=True)
class ActivitySnapshot:
    """Everything the Activity page shows, read in one transaction: pg_stat_activity's backend snapshot is
    taken once per transaction, so a session counted in one panel is in every panel that should list it."""

    usage: ConnectionUsage
    connections: pd.DataFrame
    blocking_tree: pd.DataFrame | None  # None when unavailable: the reason is in `unavailable`
    long_running_queries: pd.DataFrame
    idle_in_transaction: pd.DataFrame
    wait_events: pd.DataFrame
    maintenance_progress: pd.DataFrame | None
    activity: pd.DataFrame
    can_read_all_stats: bool  # without pg_read_all_stats, other roles' sessions have no state, query or waits
    role_name: str
    unavailable: dict[str, str] = field(default_factory=dict)  # frame field -> why it could not be read

    def frame(self, name: str) -> pd.DataFrame:
        """The frame `name`, or the PgPulseError that kept it from being read (for that panel alone)."""
        if name in self.unavailable:
            raise PgPulseError(self.unavailable[name])
        return getattr(self, name)


def activity_snapshot(engine: sa.Engine, *, min_seconds: float = 60, idle_min_seconds: float = 0,
                      limit: int = 500, row_limit: int = 100) -> ActivitySnapshot:
    """connection_usage, connections, blocking_tree, long_running_queries(min_seconds), idle_in_transaction
    (idle_min_seconds), wait_events, maintenance_progress and activity(limit), from one READ ONLY transaction.

    The session panels are derived from one read of pg_stat_activity, as the standalone functions derive
    them. The blocking tree and the maintenance progress run in savepoints, so either failing leaves the
    rest of the page. pg_blocking_pids() and pg_locks are not part of the backend snapshot: they are read
    when the tree's query runs, just after.
    """
    version = server_version_num(engine)  # cached per engine; read before the transaction holds the pool's connection
    with read_only(engine) as conn:
        settings, sessions = _read_sessions(conn, version)
        unavailable: dict[str, str] = {}
        tree = frame_of([], BLOCKING_TREE_COLUMNS)
        # the tree starts from backends waiting on a heavyweight lock: with none in this snapshot it is empty
        if any(session["wait_event_type"] == "Lock" for session in sessions):
            tree = _in_savepoint(conn, "blocking_tree", unavailable,
                                 lambda: fetch_frame_in(conn, load_sql("select_blocking_tree", version),
                                                        {"limit": int(limit)}))
        progress = frame_of([], MAINTENANCE_COLUMNS)
        if settings["progress_backends"]:  # else it is empty (see _maintenance_progress), and needs no savepoint
            progress = _in_savepoint(conn, "maintenance_progress", unavailable,
                                     lambda: _maintenance_progress(conn, version, settings, sessions))
    clients = _clients(sessions)
    return ActivitySnapshot(
        usage=_usage(settings, len(clients)), connections=_connection_counts(clients), blocking_tree=tree,
        long_running_queries=_long_running_frame(settings, clients, min_seconds, row_limit),
        idle_in_transaction=_idle_in_transaction_frame(clients, idle_min_seconds, row_limit),
        wait_events=_wait_events(sessions), maintenance_progress=progress, activity=_activity(clients, int(limit)),
        can_read_all_stats=bool(settings["can_read_all_stats"]), role_name=settings["role_name"],
        unavailable=unavailable)


@dataclass(frozen=True)
class SessionCounts:
    """What the Overview's live health checks read from one pg_stat_activity snapshot."""

    usage: ConnectionUsage
    long_running_queries: int  # len(long_running_queries(min_seconds, limit=row_limit)), so at most row_limit
    idle_in_transaction: int  # len(idle_in_transaction(idle_min_seconds, limit=row_limit))
    blocked_sessions: int  # client backends waiting on another's lock for blocked_min_seconds or more
    can_read_all_stats: bool
    role_name: str


def session_counts(engine: sa.Engine, *, min_seconds: float = 60, idle_min_seconds: float = 60,
                   blocked_min_seconds: float = 5, row_limit: int = 100) -> SessionCounts:
    """activity_snapshot's counts without its frames, blocking tree or progress: the health checks' read."""
    settings, sessions = _session_read(engine)
    clients = _clients(sessions)
    return SessionCounts(
        usage=_usage(settings, len(clients)),
        long_running_queries=min(len(_long_running(clients, settings["own_pid"], float(min_seconds))), int(row_limit)),
        idle_in_transaction=min(len(_idle_in_transaction(clients, float(idle_min_seconds))), int(row_limit)),
        blocked_sessions=sum(1 for session in clients if session["blocked_by"]
                             and (session["query_seconds"] or 0) >= float(blocked_min_seconds)),
        can_read_all_stats=bool(settings["can_read_all_stats"]), role_name=settings["role_name"])


def _session_read(engine: sa.Engine) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """_read_sessions in a READ ONLY transaction of its own: what every session panel is derived from."""
    version = server_version_num(engine)  # cached per engine; read before the transaction holds the pool's connection
    with read_only(engine) as conn:
        return _read_sessions(conn, version)


def _read_sessions(conn: sa.Connection, version: int) -> tuple[dict[str, Any], list[dict[str, Any]]]:
    """The connection settings and role, and every backend as a dict (one read of pg_stat_activity), in the
    order of select_activity_snapshot (connection-count keys in the database's collation)."""
    rows, columns = fetch_rows_in(conn, load_sql("select_activity_snapshot", version))
    sessions = [dict(zip(columns, row, strict=True)) for row in rows]
    # every row carries the settings (one statement, one round trip); this session's own row is always there
    return {key: sessions[0][key] for key in SETTINGS_COLUMNS}, sessions


def _clients(sessions: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [session for session in sessions if session["backend_type"] == "client backend"]


def _in_savepoint(conn: sa.Connection, name: str, unavailable: dict[str, str],
                  read: Callable[[], pd.DataFrame]) -> pd.DataFrame | None:
    """read() in a savepoint: an error (a timeout, say) aborts only the savepoint, the transaction goes on."""
    try:
        with conn.begin_nested():
            return read()
    except Exception as exc:  # noqa: BLE001 - recorded for its panel; the other panels still show
        unavailable[name] = str(exc if isinstance(exc, PgPulseError) else translate(exc))
        return None


def _maintenance_progress(conn: sa.Connection, version: int, settings: dict[str, Any],
                          sessions: list[dict[str, Any]]) -> pd.DataFrame:
    """pg_stat_progress_* (select_activity_progress), their pg_stat_activity columns taken from the sessions (a
    progress row's backend is in the same backend snapshot), longest running first, NULL start last.

    The progress views cost ~4 ms on a new backend (their catalogs): with no backend reporting progress in
    this transaction's backend snapshot (settings' progress_backends) they would be empty, and are not read.
    """
    if not settings["progress_backends"]:
        return frame_of([], MAINTENANCE_COLUMNS)
    rows, columns = fetch_rows_in(conn, load_sql("select_activity_progress", version))
    by_pid = {session["pid"]: session for session in sessions}
    progress = [{**dict(zip(columns, row, strict=True)), **{column: by_pid.get(row[0], {}).get(column)
                 for column in ("started_seconds", "backend_type", "query")}} for row in rows]
    progress.sort(key=lambda row: (row["started_seconds"] is None, -(row["started_seconds"] or 0), row["pid"]))
    return _pick(progress, MAINTENANCE_COLUMNS)


def _usage(settings: dict[str, Any], client_count: int) -> ConnectionUsage:
    """Slots an ordinary role can still take (never below 0) and the share in use, from the client backend count."""
    free = (settings["max_connections"] - settings["superuser_reserved_connections"]
            - settings["reserved_connections"] - client_count)
    return ConnectionUsage(client_count, settings["max_connections"], settings["superuser_reserved_connections"],
                           settings["reserved_connections"], max(free, 0), client_count / settings["max_connections"])


def _pick(sessions: list[dict[str, Any]], columns: tuple[str, ...]) -> pd.DataFrame:
    return frame_of([tuple(session[column] for column in columns) for session in sessions], columns)


def _connection_counts(clients: list[dict[str, Any]]) -> pd.DataFrame:
    """Client backends per (state, database, user, application, client address), most first, then by those keys
    in the database's collation, NULLs last: the sessions arrive sorted by the keys (select_activity_snapshot),
    so equal keys are adjacent, and a stable sort by count keeps that order among equal counts."""
    groups = [(*key, len(list(group))) for key, group in
              itertools.groupby(clients, key=lambda session: tuple(session[column] for column in CONNECTION_KEYS))]
    groups.sort(key=lambda group: -group[-1])
    return frame_of(groups, (*CONNECTION_KEYS, "connection_count"))


def _wait_events(sessions: list[dict[str, Any]]) -> pd.DataFrame:
    """Backends of every type by wait event, busiest first, then in the database's order of the event names,
    NULLs first (wait_event_order). Idle ones are left out: state 'idle', or waiting on 'Activity' (a background
    process in its main loop, idle by another name); a NULL state (a background process) is not idle."""
    counts: dict[int, list] = {}
    for session in sessions:
        if session["state"] != "idle" and session["wait_event_type"] != "Activity":
            entry = counts.setdefault(session["wait_event_order"], [session["wait_event_type"], session["wait_event"], 0])
            entry[2] += 1
    ordered = sorted(counts.items(), key=lambda item: (-item[1][2], item[0]))
    return frame_of([tuple(entry) for _, entry in ordered], ("wait_event_type", "wait_event", "backend_count"))


def _long_running(clients: list[dict[str, Any]], own_pid: int, min_seconds: float) -> list[dict[str, Any]]:
    """Client backends active for at least min_seconds, oldest query first, not this session (the one reading)."""
    chosen = [session for session in clients if session["state"] == "active" and session["pid"] != own_pid
              and session["query_seconds"] is not None and session["query_seconds"] >= min_seconds]
    return sorted(chosen, key=lambda session: (session["query_start"], session["pid"]))


def _long_running_frame(settings: dict[str, Any], clients: list[dict[str, Any]], min_seconds: float,
                        limit: int) -> pd.DataFrame:
    return _pick(_long_running(clients, settings["own_pid"], float(min_seconds))[:int(limit)], LONG_RUNNING_COLUMNS)


def _idle_in_transaction(clients: list[dict[str, Any]], min_seconds: float) -> list[dict[str, Any]]:
    """Client backends idle (or aborted) in a transaction for min_seconds, longest idle first. xact_seconds
    stays NULL for an aborted one: PostgreSQL clears its xact_start."""
    chosen = [{**session, "last_query": session["query"]} for session in clients
              if session["state"] in _IDLE_IN_TRANSACTION
              and session["idle_seconds"] is not None and session["idle_seconds"] >= min_seconds]
    return sorted(chosen, key=lambda session: (session["state_change"], session["pid"]))


def _idle_in_transaction_frame(clients: list[dict[str, Any]], min_seconds: float, limit: int) -> pd.DataFrame:
    return _pick(_idle_in_transaction(clients, float(min_seconds))[:int(limit)], IDLE_IN_TRANSACTION_COLUMNS)


def _activity(sessions: list[dict[str, Any]], limit: int) -> pd.DataFrame:
    """The sessions busy before idle, then oldest transaction / query / backend first (NULL last), then pid.

    Idle is state 'idle' or a wait on 'Activity' (a background process in its main loop); a background
    process's NULL state with any other wait, or none, is busy.
    """
    def order(session: dict[str, Any]) -> tuple:
        started = session["xact_start"] or session["query_start"] or session["backend_start"]
        return (session["state"] == "idle" or session["wait_event_type"] == "Activity", started is None, started,
                session["pid"])
    # where each session's statement comes from, when the application tags its SQL (sqlcommenter)
    return with_comment_tags(_pick(sorted(sessions, key=order)[:limit], ACTIVITY_COLUMNS))
