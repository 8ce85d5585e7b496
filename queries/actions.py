"""Actions that change the server: off unless the configuration turns them on."""
from __future__ import annotations

import sqlalchemy as sa

from queries.connection import fetch_row
from queries.errors import PgPulseError


class ActionDisabledError(PgPulseError):
    kind = "action_disabled"


def _check(action: str, pid: int, enabled: bool) -> int:
    if not enabled:
        raise ActionDisabledError(f"{action} is disabled: actions that change the server are off "
                                  "until the configuration enables them (PGPULSE_ALLOW_ACTIONS=true or allow_actions = true "
                                  "in the [pgpulse] table of secrets.toml)")
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
