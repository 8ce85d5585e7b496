"""`make run` / `make stop` as subprocesses: the state file, the URL when already running, stopping what was started."""
import json
import os
import re
import subprocess
import sys
import time
import urllib.request

import pandas as pd
import psycopg
import pytest

from dashboard.config import REPO_ROOT
from demo.postgres import free_port
from demo.state import alive
from tests.test_cli import run_cli


def _env(data_dir, **extra) -> dict:
    env = {key: value for key, value in os.environ.items() if key not in ("DATABASE_URL", "REDIS_URL", "PGPULSE_TARGETS")}
    return {**env, "PGPULSE_DATA_DIR": str(data_dir), "PGPULSE_SECRETS": "/nonexistent.toml", **extra}


def _demo(*args: str, env: dict, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "demo", *args], cwd=REPO_ROOT, env=env, text=True,
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, **kwargs)


def _wait_for_state(state_file, key: str, launcher: subprocess.Popen, timeout_s: float) -> dict:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        assert launcher.poll() is None, launcher.communicate()
        if state_file.exists() and key in (state := json.loads(state_file.read_text())):
            return state
        time.sleep(0.3)
    raise TimeoutError(f"no {key} in {state_file} after {timeout_s} s")


def _answers(port: int) -> bool:
    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
            return answer.status == 200
    except OSError:
        return False


def _stop(env: dict, launcher: subprocess.Popen) -> str:
    stopped = subprocess.run([sys.executable, "-m", "demo", "stop"], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    out, _ = launcher.communicate(timeout=60)
    return out


@pytest.fixture
def stopper():
    """Stops a launcher a failed test left behind (only the one this test started)."""
    started = []
    yield started.append
    for env, launcher in started:
        if launcher.poll() is None:
            subprocess.run([sys.executable, "-m", "demo", "stop"], cwd=REPO_ROOT, env=env, timeout=120)
            launcher.kill()


def test_make_run_on_a_configured_database_is_recorded_and_stopped_by_make_stop(fresh_db, pg_version, tmp_path, stopper):
    if pg_version < 180000:
        pytest.skip("once is enough: the launcher does not depend on the server version")
    env, port = _env(tmp_path, DATABASE_URL=fresh_db), free_port()
    launcher = _demo("run", "--port", str(port), env=env)
    stopper((env, launcher))
    state = _wait_for_state(tmp_path / "state.json", "children", launcher, 60)
    assert state["port"] == port and "database_url" not in state  # a configured URL may hold a password
    dashboard_pid = state["children"]["dashboard"]
    deadline = time.monotonic() + 90
    while not _answers(port) and time.monotonic() < deadline:
        time.sleep(0.3)
    again = _demo("run", "--port", str(free_port()), env=env)
    _, err = again.communicate(timeout=60)
    assert again.returncode == 1
    assert f"pgpulse is already running on http://127.0.0.1:{port} (pid {launcher.pid})" in err
    assert f"pgpulse is running: http://127.0.0.1:{port}" in _stop(env, launcher)
    assert not alive(dashboard_pid) and not _answers(port)
    assert not (tmp_path / "state.json").exists()


def test_the_cli_finds_the_running_embedded_demo_until_make_stop(tmp_path, stopper):
    env, port = _env(tmp_path), free_port()
    started = time.monotonic()
    launcher = _demo("run", "--port", str(port), env=env)
    stopper((env, launcher))
    state = _wait_for_state(tmp_path / "state.json", "database_url", launcher, 300)
    seeded_s = time.monotonic() - started
    print(f"embedded demo started and seeded in {seeded_s:.0f} s")
    assert re.fullmatch(r"postgresql://postgres@127\.0\.0\.1:\d+/\w+", state["database_url"])
    assert state["redis_url"].startswith("redis://127.0.0.1:")
    with psycopg.connect(state["database_url"]) as conn:
        assert conn.execute("SELECT count(*) FROM users").fetchone()[0] >= 10_000
        assert conn.execute("SHOW pg_stat_statements.track_planning").fetchone()[0] == "on"
    cli_env = {"PGPULSE_DATA_DIR": str(tmp_path)}
    report = run_cli("report", "--out", str(tmp_path / "out"), "--only", "settings", "redis_info", env_extra=cli_env)
    assert report.returncode == 0, report.stderr
    assert "shared_buffers" in set(pd.read_csv(tmp_path / "out" / "settings.csv")["name"])
    assert (tmp_path / "out" / "redis_info.csv").exists()
    assert report.stdout.strip().endswith(state["database_url"].split("@", 1)[1])
    _stop(env, launcher)
    assert not alive(state["children"]["dashboard"]) and not alive(state["redis_pid"])
    after = run_cli("report", "--out", str(tmp_path / "after"), env_extra=cli_env)
    assert after.returncode == 2 and "start the demo with `make run`" in after.stderr

