"""Actions that change the server: off unless the configuration turns them on."""
from __future__ import annotations

import sqlalchemy as sa

from queries.connection import fetch_row, server_version_num
from queries.errors import PgPulseError, translate
from queries.sql_loader import load_sql, mark_own


class ActionDisabledError(PgPulseError):
    kind = "action_disabled"


def _check_enabled(action: str, enabled: bool) -> None:
    if not enabled:
        raise ActionDisabledError(f"{action} is disabled: actions that change the server are off "
                                  "until the configuration enables them (PGPULSE_ALLOW_ACTIONS=true or allow_actions = true "
                                  "in the [pgpulse] table of secrets.toml)")


def _check(action: str, pid: int, enabled: bool) -> int:
    _check_enabled(action, enabled)
    if isinstance(pid, bool) or int(pid) != pid or pid <= 0:
        raise ValueError(f"pid must be a positive backend process id, not {pid!r}")
    return int(pid)


def cancel_backend(engine: sa.Engine, pid: int, *, enabled: bool) -> bool:
    """Cancel the query a backend is running (pg_cancel_backend); False when no such backend."""
    pid = _check("cancelling a query", pid, enabled)
    # a signal, not a write: it runs in the read-only transaction like every other call
    return bool(fetch_row(engine, "call_cancel_backend", {"pid": pid})["signalled"])


def terminate_backend(engine: sa.Engine, pid: int, *, enabled: bool) -> bool:
    """End a backend's session (pg_terminate_backend); False when no such backend."""
    pid = _check("terminating a session", pid, enabled)
    return bool(fetch_row(engine, "call_terminate_backend", {"pid": pid})["signalled"])


def analyze_table(engine: sa.Engine, schema_name: str, table_name: str, *, enabled: bool,
                  timeout_ms: int = 300_000) -> str:
    """ANALYZE one table (its statistics for the planner, pg_statistic) and return the command run. Committed: the
    statistics ANALYZE writes are part of its transaction, and a rollback would throw them away."""
    _check_enabled("analyzing a table", enabled)
    command = fetch_row(engine, "select_analyze_command", {"schema_name": schema_name, "table_name": table_name})["command"]
    if command is None:
        raise PgPulseError(f"no table {schema_name}.{table_name} to analyze: it was dropped or renamed", kind="not_found")
    try:
        with engine.begin() as conn:
            conn.execute(sa.text(load_sql("set_action_timeouts", server_version_num(engine))),
                         {"statement_timeout": f"{int(timeout_ms)}ms"})
            conn.exec_driver_sql(mark_own(command))  # quoted by the server from the catalog's own names
    except Exception as exc:
        raise translate(exc, context="ANALYZE") from None
    return command
