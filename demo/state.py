"""The state file of a running `make run` (.data/state.json): which processes to stop, and where the
demo's servers listen so `python -m dashboard report/explain` can find them. Standard library only:
the CLI reads it without importing a driver."""
from __future__ import annotations

import json
import os
from pathlib import Path

from dashboard.config import REPO_ROOT

DATA_DIR = Path(os.environ.get("PGPULSE_DATA_DIR", REPO_ROOT / ".data"))
STATE_FILE = DATA_DIR / "state.json"


def read_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def write_state(state: dict) -> None:
    """Written whole through a temporary file, so a reader never sees half of it; owner-only (it names ports)."""
    STATE_FILE.parent.mkdir(parents=True, exist_ok=True)
    partial = STATE_FILE.with_suffix(".tmp")
    partial.write_text(json.dumps(state))
    partial.chmod(0o600)
    partial.replace(STATE_FILE)


def alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):  # gone, or another user's process that reused the pid
        return False


def running_demo_urls() -> tuple[str, str | None] | None:
    """The embedded demo's database and Redis URLs while its `make run` is alive, else None."""
    state = read_state()
    if not state.get("database_url") or not alive(state.get("launcher_pid")):
        return None
    return state["database_url"], state.get("redis_url")
