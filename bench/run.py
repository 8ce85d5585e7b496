"""Scale benchmark: every page's data on a big catalog, cold, warm and rendered, and the monitoring overhead.

Run: .venv/bin/python -m bench.run [--tables N --statements N ...] [--json bench/results/latest.json]
Figures from one run, printed and written as JSON; nothing here fails the run on a missed target.
"""
from __future__ import annotations

import argparse
import json
import os
import platform
import re
import resource
import statistics
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path

import psycopg

from bench.generate_catalog import Catalog, build_catalog, database_url
from dashboard.config import DEFAULT_REFRESH_S, DEFAULT_SIZE_REFRESH_S, DEFAULT_STATS_REFRESH_S
from demo.postgres import DEMO_SETTINGS, Cluster, embedded_bin_dir
from queries import catalogue
from queries.health import health_checks

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "bench" / "results"
TARGET_COLD_S = 0.5
TARGET_RATIO = 3.0
TARGET_WARM_MS = 50.0
TARGET_RENDER_S = 1.0
TARGET_PEAK_MB = 400.0
WARM_REFRESH_S = 3600  # one cache bucket for the whole warm measurement

# The cheapest statement reading the same catalog rows as a page; a page's floor is the sum of its sources.
# Statistics are read with the pg_stat_get_* functions a view is built from, only the counters needed, over
# pg_class / pg_index: 3-5x cheaper than SELECT * from the pg_stat_user_* views, so the floor stays a floor.
USER_TABLES = "FROM pg_class WHERE relkind IN ('r', 'p', 'm')"
FLOOR_SQL = {
    "pg_class": "SELECT relname, relpages FROM pg_class",
    "pg_index": "SELECT indexrelid, indrelid FROM pg_index",
    "pg_stat_statements": "SELECT * FROM pg_stat_statements",
    "pg_stat_activity": "SELECT * FROM pg_stat_activity",
    "pg_settings": "SELECT * FROM pg_settings",
    "pg_relation_size": "SELECT pg_relation_size(oid) FROM pg_class",
    "index_scans": "SELECT indexrelid, indrelid, indkey, pg_stat_get_numscans(indexrelid) FROM pg_index",
    "index_blocks": "SELECT indexrelid, pg_stat_get_blocks_fetched(indexrelid), pg_stat_get_blocks_hit(indexrelid) "
                    "FROM pg_index",
    "table_scans": "SELECT oid, relname, pg_stat_get_numscans(oid), pg_stat_get_tuples_returned(oid), "
                   f"pg_stat_get_live_tuples(oid) {USER_TABLES}",
    "table_vacuum": "SELECT oid, relname, pg_stat_get_live_tuples(oid), pg_stat_get_dead_tuples(oid), "
                    "pg_stat_get_mod_since_analyze(oid), pg_stat_get_last_vacuum_time(oid), "
                    f"pg_stat_get_last_autovacuum_time(oid), pg_stat_get_last_autoanalyze_time(oid) {USER_TABLES}",
    "table_blocks": f"SELECT oid, relname, pg_stat_get_blocks_fetched(oid), pg_stat_get_blocks_hit(oid) {USER_TABLES}",
}
# how often the pages re-read each call, at the default settings (dashboard/config.py)
PACES_S = {"live": DEFAULT_REFRESH_S, "status": max(DEFAULT_REFRESH_S, 60), "stats": DEFAULT_STATS_REFRESH_S,
           "sizes": DEFAULT_SIZE_REFRESH_S}


@dataclass(frozen=True)
class Call:
    """One data call a page makes: a catalogue metric's read(engine, **kwargs), through data.load (or the health
    checks of one group, through data.health_reading)."""

    metric: str
    kwargs: dict = field(default_factory=dict)
    health_group: str | None = None

    @classmethod
    def of(cls, name: str) -> Call:
        """The metric as its page first asks for it: the page's default arguments."""
        return cls(name, dict(catalogue.metric(name).defaults))

    @property
    def function(self) -> Callable:
        return health_checks if self.health_group else catalogue.metric(self.metric).read

    @property
    def pace(self) -> str:
        if self.health_group:
            return "live" if self.health_group == "live" else "stats"
        return catalogue.metric(self.metric).pace

    @property
    def label(self) -> str:
        if self.health_group:
            return f"health_checks(groups=({self.health_group!r},))"
        args = ", ".join(f"{key}={value!r}" for key, value in self.kwargs.items())
        return f"{self.metric}({args})"

    @property
    def every_s(self) -> int:
        return PACES_S[self.pace]

    @property
    def key(self) -> str:
        """What the dashboard's cache tells calls apart by here: the call and its pace."""
        return f"{self.label} [{self.pace}]"


def _page_calls(page: str, painted: str = "first") -> list[Call]:
    return [Call.of(m.name) for m in catalogue.METRICS.values()
            if m.page == page and m.painted == painted and m.source == "postgres"]  # the bench has no Redis


# exactly the calls dashboard/views/<page>.py makes on first paint, with the widgets' default values: the catalogue's
# metrics of the page; the Overview also shows the Queries page's default view (its first 5 rows) and the checks
PAGES: dict[str, list[Call]] = {page: _page_calls(page) for page in
                                ("overview", "queries", "activity", "space", "indexes", "maintenance", "cache", "settings")}
PAGES["overview"] += [Call("health", health_group="live"), Call("health", health_group="catalog"), Call.of("statements")]
PAGES["space_exact"] = _page_calls("space", painted="after")  # exact sizes, filled in after the first paint
FILLED_IN_AFTER = {"space_exact"}  # not part of a page's first paint
APP_PAGES = ["overview", "queries", "activity", "space", "indexes", "maintenance", "cache", "settings"]


def page_floor(page: str) -> list[str]:
    """The floor sources of a page's calls."""
    names: dict[str, None] = {}
    for call in PAGES[page]:
        if not call.health_group:
            names.update(dict.fromkeys(catalogue.metric(call.metric).floor))
    if page == "overview":
        names["index_scans"] = None  # its checks count unused and duplicate indexes: every index's scans and keys
    return list(names)


def bench_settings() -> dict[str, str]:
    settings = dict(DEMO_SETTINGS)
    settings["max_connections"] = "300"  # 200 held sessions, the dashboard's pools, pgbench
    return settings


def start_cluster(data_dir: Path) -> Cluster:
    return Cluster(embedded_bin_dir(), data_dir, settings=bench_settings()).start()


def timed(action: Callable[[], object]) -> tuple[float, object, str | None]:
    start = time.perf_counter()
    try:
        result, error = action(), None
    except Exception as exc:  # noqa: BLE001 - a failed call is a figure too
        result, error = None, f"{type(exc).__name__}: {exc}"
    return time.perf_counter() - start, result, error


def measure_floors(url: str, runs: int = 3) -> dict[str, float]:
    """Each floor statement's best time of `runs`, each on a fresh connection (cold relation cache, as the
    page's cold figure), connecting not counted (seconds)."""
    floors = {}
    for name, statement in FLOOR_SQL.items():
        best = float("inf")
        for _ in range(runs):
            with psycopg.connect(url, autocommit=True) as conn:
                start = time.perf_counter()
                conn.execute(statement).fetchall()
                best = min(best, time.perf_counter() - start)
        floors[name] = best
    return floors


def call_direct(call: Call, engine) -> object:
    if call.health_group:
        return health_checks(engine, None, groups=(call.health_group,))
    return call.function(engine, **call.kwargs)


def measure_cold(url: str, runs: int = 3) -> dict[str, dict]:
    """Each page's calls, in order, on a fresh engine whose first connection is open (connect, dialect
    set-up and version probe done, as the floors' fresh connections): a new backend with empty
    relation and catalog caches. Best of `runs` fresh engines, the floors' statistic too; every run's
    total is kept. The connect itself is reported apart (connect_s)."""
    pages = {}
    for page, calls in PAGES.items():
        attempts = [_cold_run(url, calls) for _ in range(runs)]
        best = min(attempts, key=lambda attempt: attempt["cold_s"])
        pages[page] = {**best, "runs_s": [attempt["cold_s"] for attempt in attempts]}
    return pages


def _cold_run(url: str, calls: list[Call]) -> dict:
    from queries.connection import make_engine, server_version_num

    engine = make_engine(url)
    connect_s, _, _ = timed(lambda: server_version_num(engine))
    functions = {}
    for call in calls:
        seconds, _, error = timed(lambda call=call: call_direct(call, engine))
        functions[call.label] = {"seconds": seconds, "error": error}
    engine.dispose()
    return {"cold_s": sum(item["seconds"] for item in functions.values()), "connect_s": connect_s,
            "functions": functions}


def load_through_cache(call: Call, context) -> object:
    """The call through the dashboard's cache, in one bucket for the whole warm measurement."""
    from dashboard import data

    if call.health_group:
        return data.health_reading(context, call.health_group).value
    return data.load(call.function, context, **call.kwargs)


def measure_warm(url: str) -> dict[str, float]:
    """Each page's calls through dashboard.data's st.cache_data (bare mode): primed once, then timed (ms)."""
    os.environ.update({"DATABASE_URL": url, "PGPULSE_SECRETS": str(RESULTS / "no-secrets.toml")})
    os.environ.pop("REDIS_URL", None)
    from dashboard.config import Target
    from dashboard.sidebar import ViewContext

    target = ViewContext(Target("default", url), WARM_REFRESH_S, False, WARM_REFRESH_S, WARM_REFRESH_S)
    warm = {}
    for page, calls in PAGES.items():
        for call in calls:
            timed(lambda call=call: load_through_cache(call, target))
        start = time.perf_counter()
        for call in calls:
            timed(lambda call=call: load_through_cache(call, target))
        warm[page] = (time.perf_counter() - start) * 1000
    return warm


def measure_render(url: str) -> dict:
    """AppTest warm render of every page (the second run of each), with the process's peak memory after."""
    import streamlit as st
    from streamlit.testing.v1 import AppTest

    from dashboard.navigation import PAGES as PAGE_TABLE

    # a long refresh keeps the warm run inside the first run's cache bucket
    os.environ.update({"DATABASE_URL": url, "PGPULSE_SECRETS": str(RESULTS / "no-secrets.toml"),
                       "PGPULSE_REFRESH_SECONDS": "300"})
    st.cache_data.clear()
    st.cache_resource.clear()
    app = AppTest.from_file(str(REPO / "dashboard" / "app.py"), default_timeout=600)
    first_start = time.perf_counter()
    app.run()
    results = {"first_overview_s": time.perf_counter() - first_start, "pages": {}}
    for page in APP_PAGES:
        path = f"views/{PAGE_TABLE[page][0]}"
        start = time.perf_counter()
        app.switch_page(path).run()
        first = time.perf_counter() - start
        start = time.perf_counter()
        app.switch_page(path).run()
        warm = time.perf_counter() - start
        # the bench has no Redis: the Cache page's Redis panels say so, which is not a failure
        errors = [str(item.value)[:200] for item in [*app.error, *app.exception]
                  if "no Redis is configured" not in str(item.value)]
        results["pages"][page] = {"first_s": first, "warm_s": warm, "errors": errors}
    results["peak_rss_mb"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return results


class ExecClock:
    """Top-level execution time per database from pg_stat_statements (ms), read from the `postgres`
    database so that reading it adds nothing to the databases being measured."""

    def __init__(self, admin_url: str):
        self.conn = psycopg.connect(admin_url, autocommit=True)
        self.conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")

    def read(self) -> dict[str, float]:
        rows = self.conn.execute("SELECT d.datname, sum(s.total_exec_time) FROM pg_stat_statements s "
                                 "JOIN pg_database d ON d.oid = s.dbid WHERE s.toplevel GROUP BY d.datname").fetchall()
        return {name: float(total) for name, total in rows}

    def close(self) -> None:
        self.conn.close()


def unique_calls(pages: tuple[str, ...]) -> list[Call]:
    """The calls of these pages, each once: the dashboard's cache shares a call two pages make alike."""
    seen: dict[str, Call] = {}
    for page in pages:
        for call in PAGES[page]:
            seen.setdefault(call.key, call)
    return list(seen.values())


def measure_overhead(cluster: Cluster, monitored_url: str, seconds: int = 30, rounds: int = 3) -> dict:
    """pgbench -c 4 on its own database; meanwhile every page's calls run `rounds` times on the
    dashboard's warm engine (its steady state) and each call's server execution time is read from
    pg_stat_statements. The dashboard's load is each call's median time divided by its pace (a call
    re-read every 600 s costs 1/600 of its time per second), against pgbench's execution time per
    second: the share a viewer adds, without depending on where a 10-minute pace falls in the run."""
    from queries.connection import make_engine

    admin_url = cluster.url()
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = 'pgbench'").fetchone():
            conn.execute("CREATE DATABASE pgbench")
    pgbench = str(embedded_bin_dir() / "pgbench")
    connection = ["-h", "127.0.0.1", "-p", str(cluster.port), "-U", "postgres"]
    subprocess.run([pgbench, "-i", "-q", *connection, "pgbench"], check=True, capture_output=True)
    monitored = monitored_url.rsplit("/", 1)[1]
    calls = unique_calls(tuple(PAGES))
    engine = make_engine(monitored_url)
    for call in calls:  # a dashboard that is already running: its backends have warm caches
        timed(lambda call=call: call_direct(call, engine))
    clock = ExecClock(admin_url)
    samples: dict[str, list[float]] = {call.key: [] for call in calls}
    before, started = clock.read(), time.monotonic()
    process = subprocess.Popen([pgbench, "-T", str(seconds), "-c", "4", "-j", "2", *connection, "pgbench"],
                               stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    try:
        for _ in range(rounds):
            for call in calls:
                if process.poll() is not None:
                    break
                ahead = clock.read().get(monitored, 0.0)
                timed(lambda call=call: call_direct(call, engine))
                samples[call.key].append(clock.read().get(monitored, 0.0) - ahead)
        out, _ = process.communicate()
        elapsed = time.monotonic() - started
        after = clock.read()
    finally:
        clock.close()
        engine.dispose()
    pgbench_ms_per_s = (after.get("pgbench", 0.0) - before.get("pgbench", 0.0)) / elapsed
    exec_ms = {key: statistics.median(times or [0.0]) for key, times in samples.items()}
    per_call = {call.key: {"exec_ms": exec_ms[call.key], "every_s": call.every_s, "samples": len(samples[call.key])}
                for call in calls}

    def share(pages: tuple[str, ...]) -> dict:
        load_ms_per_s = sum(exec_ms[call.key] / call.every_s for call in unique_calls(pages))
        return {"dashboard_ms_per_s": load_ms_per_s,
                "share": load_ms_per_s / (load_ms_per_s + pgbench_ms_per_s) if pgbench_ms_per_s else None}

    tps = re.search(r"tps = ([\d.]+)", out)
    return {"seconds": seconds, "rounds": rounds, "pgbench_exec_ms_per_s": pgbench_ms_per_s,
            "pgbench_tps": float(tps.group(1)) if tps else None, "calls": per_call,
            "scenarios": {"overview only": share(("overview",)),
                          **{f"{page} only": share(("space", "space_exact") if page == "space" else (page,))
                             for page in APP_PAGES if page != "overview"},
                          "every page": share(tuple(PAGES))}}


def page_rows(cold: dict, warm: dict, floors: dict, render: dict | None) -> list[dict]:
    rows = []
    for page in PAGES:
        floor = sum(floors[name] for name in page_floor(page))
        cold_s, warm_ms = cold[page]["cold_s"], warm[page]
        render_s = render["pages"][page]["warm_s"] if render and page in render["pages"] else None
        # exact sizes cost more than 0.5 s by their floor alone: the target is then estimates first (the
        # space row) and the exact figures filled in after, within 3x of that floor
        fast_enough = cold_s < TARGET_COLD_S or page in FILLED_IN_AFTER
        met = (fast_enough and cold_s <= TARGET_RATIO * floor and warm_ms < TARGET_WARM_MS
               and (render_s is None or render_s < TARGET_RENDER_S))
        rows.append({"page": page, "cold_s": cold_s, "warm_ms": warm_ms, "floor_s": floor,
                     "floor_sources": page_floor(page), "ratio": cold_s / floor if floor else None,
                     "render_warm_s": render_s, "target_met": met})
    return rows


def print_report(result: dict) -> None:
    print(f"\n{result['catalog']}  ({result['machine']})")
    print(f"{'page':<16}{'cold_s':>8}{'warm_ms':>9}{'floor_s':>9}{'ratio':>7}{'render_s':>10}  met")
    for row in result["pages"]:
        render = "-" if row["render_warm_s"] is None else f"{row['render_warm_s']:.2f}"
        ratio = "-" if row["ratio"] is None else f"{row['ratio']:.1f}"
        print(f"{row['page']:<16}{row['cold_s']:>8.3f}{row['warm_ms']:>9.1f}{row['floor_s']:>9.3f}{ratio:>7}"
              f"{render:>10}  {'yes' if row['target_met'] else 'NO'}")
    print("\nslowest calls (cold):")
    calls = [(item["seconds"], page, label, item["error"]) for page, data in result["cold"].items()
             for label, item in data["functions"].items()]
    for seconds, page, label, error in sorted(calls, reverse=True)[:12]:
        print(f"  {seconds:7.3f} s  {page:<16}{label}" + (f"  ERROR {error[:120]}" if error else ""))
    connects = [data["connect_s"] for data in result["cold"].values()]
    print(f"\nconnect, dialect set-up and version probe of a fresh engine (before cold_s): "
          f"median {statistics.median(connects):.3f} s")
    print("floors: " + ", ".join(f"{name} {seconds:.3f} s" for name, seconds in result["floors"].items()))
    render = result.get("render")
    if render:
        print(f"AppTest first run (Overview, cold): {render['first_overview_s']:.2f} s; "
              f"peak RSS after every page: {render['peak_rss_mb']:.0f} MB (target < {TARGET_PEAK_MB:.0f})")
        for page, item in render["pages"].items():
            if item["errors"]:
                print(f"  {page}: {item['errors']}")
    overhead = result.get("overhead")
    if overhead:
        print(f"\nmonitoring overhead during pgbench -c 4 ({overhead['pgbench_tps']} tps, "
              f"{overhead['pgbench_exec_ms_per_s']:.0f} ms of execution per second), each call's server time "
              f"(median of {overhead['rounds']}) over its pace; target < 1 %:")
        for scenario, figures in overhead["scenarios"].items():
            share = "-" if figures["share"] is None else f"{figures['share']:.2%}"
            print(f"  {scenario:<20}{figures['dashboard_ms_per_s']:7.2f} ms/s  {share}")
        costly = sorted(overhead["calls"].items(), key=lambda item: -item[1]["exec_ms"] / item[1]["every_s"])[:6]
        print("  costliest calls: " + "; ".join(f"{label} {item['exec_ms']:.0f} ms every {item['every_s']} s"
                                                for label, item in costly))


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench.run", description=__doc__.splitlines()[0])
    parser.add_argument("--tables", type=int, default=10_000)
    parser.add_argument("--indexes-per-table", type=int, default=2)
    parser.add_argument("--schemas", type=int, default=10)
    parser.add_argument("--statements", type=int, default=5_000)
    parser.add_argument("--idle-connections", type=int, default=150)
    parser.add_argument("--active-connections", type=int, default=50)
    parser.add_argument("--pgbench-seconds", type=int, default=30, help="0 skips the overhead measurement")
    parser.add_argument("--skip-render", action="store_true", help="skip the AppTest render measurement")
    parser.add_argument("--data-dir", type=Path, default=RESULTS / "pgdata")
    parser.add_argument("--json", type=Path, default=RESULTS / "latest.json")
    parser.add_argument("--keep-running", action="store_true", help="leave the benchmark server running")
    return parser.parse_args(argv)


def run(args: argparse.Namespace) -> dict:
    RESULTS.mkdir(parents=True, exist_ok=True)
    cluster = start_cluster(args.data_dir)
    catalog: Catalog | None = None
    try:
        catalog = build_catalog(cluster.url(), tables=args.tables, indexes_per_table=args.indexes_per_table,
                                schemas=args.schemas, statements=args.statements,
                                idle_connections=args.idle_connections, active_connections=args.active_connections)
        print(f"catalog ready: build {catalog.build_seconds:.1f} s, statements {catalog.statements_seconds:.1f} s",
              flush=True)
        url = database_url(cluster.url(), "pgpulse_bench")
        floors = measure_floors(url)
        cold = measure_cold(url)
        warm = measure_warm(url)
        render = None if args.skip_render else measure_render(url)
        overhead = measure_overhead(cluster, url, args.pgbench_seconds) if args.pgbench_seconds else None
        result = {"date": datetime.now(UTC).isoformat(timespec="seconds"),
                  "machine": f"{platform.machine()}, {os.cpu_count()} cores, Python {platform.python_version()}",
                  "catalog": catalog.params, "build_seconds": catalog.build_seconds,
                  "floors": floors, "pages": page_rows(cold, warm, floors, render), "cold": cold,
                  "render": render, "overhead": overhead,
                  "peak_rss_mb": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024}
    finally:
        if catalog:
            catalog.close()
        if not args.keep_running:
            cluster.stop()
    args.json.parent.mkdir(parents=True, exist_ok=True)
    args.json.write_text(json.dumps(result, indent=2, default=str))
    return result


def main(argv: list[str] | None = None) -> int:
    result = run(parse_args(argv))
    print_report(result)
    return 0


if __name__ == "__main__":
    threading.current_thread().name = "bench"
    sys.exit(main())
