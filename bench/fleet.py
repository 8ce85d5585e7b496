"""Many servers at once, from one run: one collector process (`python -m dashboard collect`) watching 200 databases
on three servers (PostgreSQL 18 from the wheel, 15 from Debian, 17 from the npm registry's package), found by
discovery (`databases = "*"`), at the default paces, for a bounded time; then one server stopped.

Printed, each beside its goal (ratio = goal / measured, above 1 is within the goal):
- poll lag: how late each fleet poll (server figures, every 10 s) and each database-counter read (every 10 s) came,
  the worst over every target, from the times the collector stored; active session samples taken / due
- the collector's CPU (% of one core) and peak RSS
- the Fleet page's read of 200 targets from the store, cold (a new connection)
- one dead server: the same lags and CPU with one server stopped (the others must not notice)

Run: .venv/bin/python -m bench.fleet [--databases 200 --seconds 120 --dead-seconds 60]
Temporary clusters under a temporary folder; nothing fails, figures are printed.
"""
from __future__ import annotations

import argparse
import json
import os
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

import psutil
import psycopg

from dashboard.config import REPO_ROOT
from demo.npm_postgres import npm_bin_dir
from demo.postgres import DEBIAN_PG15_BIN, DEMO_SETTINGS, Cluster, embedded_bin_dir
from queries.connection import make_engine
from queries.history.fleet import fleet_overview

SERVERS = {"pg18": embedded_bin_dir, "pg15": lambda: DEBIAN_PG15_BIN, "pg17": lambda: npm_bin_dir("17")}
DEAD = "pg15"
EVERY_S = 10  # history_database_seconds at its default: the fleet poll and the database counters
GOALS = {"lag_s": 1.0, "cpu_percent": 20.0, "rss_mb": 150.0, "fleet_read_s": 0.5}
# every target: reader, sampler, checks (3 connections per database) and the collector's per-server reads
SERVER_SETTINGS = {**DEMO_SETTINGS, "max_connections": "400", "fsync": "off", "synchronous_commit": "off",
                   "full_page_writes": "off"}
CHECKED_SQL = """SELECT t.name, f.checked_at, f.reachable FROM pgpulse.fleet_state f JOIN pgpulse.target t USING (target_id)"""
INTERVALS_SQL = """SELECT t.name, max(d.interval_s) FROM pgpulse.database_delta d JOIN pgpulse.target t USING (target_id)
                   WHERE d.sampled_at >= %s GROUP BY 1"""
# samples taken against samples due in every bucket written (a bucket: bucket_s seconds, one sample every every_s)
SAMPLES_SQL = """SELECT coalesce(sum(samples), 0), coalesce(sum(bucket_s / every_s), 0)::float8 FROM pgpulse.activity_bucket
                 WHERE sampled_at >= %s AND sampled_at < %s"""


def ratio(what: str, measured: float | None, goal: float, unit: str) -> None:
    if measured is None:
        print(f"{what}: not measured (goal {goal:g} {unit})")
        return
    shown = f"{goal / measured:.2f}x" if measured * 1000 > goal else ">1000x"
    print(f"{what}: {measured:,.3f} {unit} (goal {goal:g} {unit}, ratio {shown})")


def start_servers(base: Path) -> dict[str, Cluster]:
    clusters = {}
    for name, bin_dir in SERVERS.items():
        clusters[name] = Cluster(bin_dir(), base / name, settings=dict(SERVER_SETTINGS)).start()
        print(f"{name}: PostgreSQL on port {clusters[name].port}", flush=True)
    return clusters


def create_databases(cluster: Cluster, count: int) -> None:
    """`count` databases bench_NNN, each with pg_stat_statements (made in template1, so every copy has it)."""
    with psycopg.connect(cluster.url("template1"), autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
    with psycopg.connect(cluster.url(), autocommit=True) as conn:
        for number in range(count):
            conn.execute(f"CREATE DATABASE bench_{number:03d} STRATEGY FILE_COPY")


def start_collector(clusters: dict[str, Cluster], store_url: str, activity_s: float | None) -> psutil.Popen:
    servers = {name: {"database_url": cluster.url(), "databases": "*", "include": ["bench_*"]}
               for name, cluster in clusters.items()}
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PGPULSE_", "DATABASE_URL"))}
    env.update({"PGPULSE_TARGETS": json.dumps(servers), "PGPULSE_HISTORY_URL": store_url,
                "PGPULSE_SECRETS": "/nonexistent.toml",
                **({"PGPULSE_HISTORY_ACTIVITY_SECONDS": str(activity_s)} if activity_s else {})})
    return psutil.Popen([sys.executable, "-m", "dashboard", "collect"], cwd=REPO_ROOT, env=env,
                        stdout=open(Path(tempfile.gettempdir()) / "bench-fleet-collector.log", "w"),
                        stderr=psutil.subprocess.STDOUT)


def reachable_count(store_url: str) -> int:
    with psycopg.connect(store_url) as conn:
        return conn.execute("SELECT count(*) FROM pgpulse.fleet_state WHERE reachable").fetchone()[0]


def wait_all_reachable(store_url: str, expected: int, timeout_s: float = 120) -> float:
    started = time.monotonic()
    while time.monotonic() - started < timeout_s:
        try:
            reachable = reachable_count(store_url)
        except psycopg.Error:
            reachable = 0
        if reachable >= expected:
            return time.monotonic() - started
        time.sleep(1)
    return time.monotonic() - started


class Window:
    """One measured stretch: the collector's CPU and peak RSS, and each target's fleet checks seen in the store."""

    def __init__(self, collector: psutil.Popen, store_url: str):
        self.collector, self.store_url = collector, store_url
        self.checks: dict[str, set] = {}
        self.peak_rss = 0

    def run(self, seconds: float) -> Window:
        with psycopg.connect(self.store_url, autocommit=True) as conn:
            self.started_at = conn.execute("SELECT now()").fetchone()[0]
            cpu_before, wall_before = sum(self.collector.cpu_times()[:2]), time.monotonic()
            while time.monotonic() - wall_before < seconds:
                for name, checked_at, _ in conn.execute(CHECKED_SQL):
                    self.checks.setdefault(name, set()).add(checked_at)
                self.peak_rss = max(self.peak_rss, self.collector.memory_info().rss)
                time.sleep(1)
            self.cpu_percent = (sum(self.collector.cpu_times()[:2]) - cpu_before) / (time.monotonic() - wall_before) * 100
            self.ended_at = conn.execute("SELECT now()").fetchone()[0]
            self.intervals = dict(conn.execute(INTERVALS_SQL, (self.started_at,)).fetchall())
            self.samples, self.samples_due = conn.execute(SAMPLES_SQL, (self.started_at, self.ended_at)).fetchone()
        return self

    def fleet_lags(self, names: list[str]) -> list[float]:
        """Per target, how late each fleet poll came after the one before (gap - interval), every one seen."""
        lags = []
        for name in names:
            moments = sorted(self.checks.get(name, ()))
            gaps = [(later - earlier).total_seconds() for earlier, later in zip(moments, moments[1:], strict=False)]
            # the store keeps a target's latest poll: two polls written in one flush show as one gap of 2 intervals
            lags += [max(0.0, gap - EVERY_S * max(1, round(gap / EVERY_S))) for gap in gaps]
        return lags

    def counter_lags(self, names: list[str]) -> list[float]:
        return [max(0.0, float(self.intervals[name]) - EVERY_S) for name in names if name in self.intervals]


def fleet_read_cold(store_url: str, names: list[str], times: int = 3) -> float:
    """The Fleet page's read of every target on a new connection each time (the median of `times`)."""
    took = []
    for _ in range(times):
        engine = make_engine(store_url, pool_size=1)
        started = time.perf_counter()
        frame = fleet_overview(engine, names)
        took.append(time.perf_counter() - started)
        engine.dispose()
        assert len(frame) == len(names)
    return statistics.median(took)


def report_window(title: str, window: Window, names: list[str], seconds: float) -> None:
    print(f"-- {title} ({len(names)} targets, {seconds:.0f} s)")
    fleet, counters = window.fleet_lags(names), window.counter_lags(names)
    ratio("  worst fleet poll lag", max(fleet) if fleet else None, GOALS["lag_s"], "s")
    print(f"  fleet polls seen: {len(fleet)}, median lag {statistics.median(fleet) if fleet else 0:.3f} s")
    ratio("  worst database-counter read lag", max(counters) if counters else None, GOALS["lag_s"], "s")
    due = max(window.samples_due, 1)
    print(f"  targets polled at least twice: {sum(len(window.checks.get(name, ())) >= 2 for name in names)} of {len(names)}")
    print(f"  active session samples taken / due in the buckets written: {window.samples:,} / {due:,.0f} "
          f"({window.samples / due:.1%})")
    ratio("  collector CPU", window.cpu_percent, GOALS["cpu_percent"], "% of one core")
    ratio("  collector peak RSS", window.peak_rss / 2 ** 20, GOALS["rss_mb"], "MB")


def main() -> None:
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(1))  # stopped from outside: still stop what it started
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--databases", type=int, default=200)
    parser.add_argument("--seconds", type=float, default=120)
    parser.add_argument("--dead-seconds", type=float, default=60)
    parser.add_argument("--activity-seconds", type=float, default=None,
                        help="history_activity_seconds for this run (default: the default pace, 1 s)")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="pgpulse-bench-fleet-") as base:
        os.chmod(base, 0o755)
        clusters = start_servers(Path(base))
        collector = None
        try:
            shares = [args.databases // 3 + (1 if position < args.databases % 3 else 0) for position in range(3)]
            started = time.monotonic()
            for cluster, count in zip(clusters.values(), shares, strict=True):
                create_databases(cluster, count)
            print(f"{args.databases} databases created in {time.monotonic() - started:.0f} s", flush=True)
            with psycopg.connect(clusters["pg18"].url(), autocommit=True) as conn:
                conn.execute("CREATE DATABASE fleet_store")
            store_url = clusters["pg18"].url("fleet_store")
            collector = start_collector(clusters, store_url, args.activity_seconds)
            waited = wait_all_reachable(store_url, args.databases)
            print(f"targets reachable in the store {waited:.0f} s after the collector's start "
                  f"({reachable_count(store_url)} of {args.databases})", flush=True)
            names = {name: [f"{name}/bench_{number:03d}" for number in range(count)]
                     for name, count in zip(clusters, shares, strict=True)}
            everyone = [target for targets in names.values() for target in targets]
            steady = Window(collector, store_url).run(args.seconds)
            report_window("all three servers up", steady, everyone, args.seconds)
            ratio(f"Fleet page read, {len(everyone)} targets, cold (median of 3)", fleet_read_cold(store_url, everyone),
                  GOALS["fleet_read_s"], "s")
            clusters[DEAD].stop(mode="immediate")
            alive = [target for name, targets in names.items() if name != DEAD for target in targets]
            dead = Window(collector, store_url).run(args.dead_seconds)
            report_window(f"{DEAD} stopped: the other two servers' targets", dead, alive, args.dead_seconds)
            before, after = steady.fleet_lags(alive), dead.fleet_lags(alive)
            print(f"one dead server's cost to the others: worst fleet poll lag {max(before, default=0):.3f} s -> "
                  f"{max(after, default=0):.3f} s, CPU {steady.cpu_percent:.1f} % -> {dead.cpu_percent:.1f} %")
        finally:
            if collector is not None:
                collector.terminate()  # it writes what it holds and closes 400 connections: give it time
                try:
                    collector.wait(180)
                except psutil.TimeoutExpired:
                    collector.kill()
            for cluster in clusters.values():
                if cluster.is_running():
                    cluster.stop(mode="immediate")


if __name__ == "__main__":
    main()
