"""History costs from one run: the collector's share of the monitored server's execution time, the store's bytes per
target and day, and range-read times on generated history.

Run: .venv/bin/python -m bench.history [--statements 5000 --active 50 --seconds 180 --days 7 --history-statements 5000
     --every 10 --tables 10000 --growing 100 --size-collections 6]
A throwaway PostgreSQL 18 (the wheel) under a temporary folder serves as target and store; nothing is reset: the
collector's share is the difference of pg_stat_statements sums before and after. Ratios are printed, nothing fails.
"""
from __future__ import annotations

import argparse
import asyncio
import os
import signal
import subprocess
import sys
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psutil
import psycopg
from psycopg import sql

from bench.generate_catalog import _table_name, build_catalog
from collector import Collector, TargetConfig
from dashboard.config import REPO_ROOT
from demo.postgres import DEMO_SETTINGS, Cluster, embedded_bin_dir
from queries import catalogue
from queries.connection import make_engine
from queries.history import database_series, statement_series, statements_over_range
from queries.history import store as history_store
from queries.history.sizes import index_scans_over_range, table_growth, unused_indexes_over_range
from queries.sql_loader import OWN_STATEMENT_MARK

FAST_PACES = {"history_statements_seconds": 10, "history_database_seconds": 2}
DEFAULT_PACES = {"history_statements_seconds": 60, "history_database_seconds": 10}
EXECUTION_TIME_SQL = f"""SELECT coalesce(sum(total_exec_time) FILTER (WHERE query LIKE '%{OWN_STATEMENT_MARK}%'
                                                                       AND query LIKE '%pg_stat_statements%'), 0)::float8,
                                coalesce(sum(total_exec_time) FILTER (WHERE query LIKE '%{OWN_STATEMENT_MARK}%'
                                                                       AND query NOT LIKE '%pg_stat_statements%'), 0)::float8,
                                coalesce(sum(total_exec_time), 0)::float8 FROM pg_stat_statements
                         WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())"""
STORE_SIZE_SQL = """SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'statement%%'), 0)::float8,
                           coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname NOT LIKE 'statement%%'),
                                    0)::float8,
                           (SELECT count(*) FROM pgpulse.statement_collection),
                           (SELECT count(*) FROM pgpulse.database_delta)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'pgpulse' AND c.relkind = 'r'"""
# a generated history: each statement runs in one minute of every `every` (1: every statement every minute, the worst
# case), then rolled up as the collector's store does (hours once complete, minutes kept for ROLL_UP_AFTER_DAYS)
GENERATE_SQL = """
INSERT INTO pgpulse.statement_collection (target_id, sampled_at, interval_s, entries, evictions, stats_reset, server_restarted)
SELECT %(target_id)s, t, 60, %(statements)s, 0, false, false FROM generate_series(%(start)s, %(end)s, interval '1 minute') t;
INSERT INTO pgpulse.statement_delta
SELECT %(target_id)s, t, 60, 5, 10, q, true, 10, 10.0 + q %% 7, 0, 10, 30, 3, 0, 0, 0, 0, 0.1, 0, 0, 0
FROM generate_series(%(start)s, %(end)s, interval '1 minute') t, generate_series(1, %(statements)s) q
WHERE (q + extract(epoch FROM t)::bigint / 60) %% %(every)s = 0;
INSERT INTO pgpulse.statement_text (target_id, queryid, query, first_seen_at)
SELECT %(target_id)s, q, 'SELECT ' || q, %(start)s FROM generate_series(1, %(statements)s) q ON CONFLICT DO NOTHING;
"""


# the goals: the collector's share of the server's time, store size per target and day, RSS, cold reads
TARGETS = {"share_percent": 0.5, "store_mb_per_day": 50, "rss_mb": 150, "sizes_mb_per_day": 10}


def _ratio(what: str, measured: float, target: float, unit: str) -> None:
    """A figure beside its goal; the ratio is goal / measured, so above 1 is within the goal."""
    print(f"{what}: {measured:,.3f} {unit} (goal {target:g} {unit}, ratio {target / max(measured, 1e-9):.2f}x)")


def _run_statements(url: str, count: int) -> None:
    """`count` distinct pg_stat_statements entries: shapes differ in their column and condition counts."""
    with psycopg.connect(url, autocommit=True) as conn:
        for number in range(count):
            columns, conditions = number % 100 + 1, number // 100 + 1
            conn.execute("SELECT " + ", ".join(["g"] * columns) + " FROM (SELECT 1 AS g) s WHERE "
                         + " AND ".join(["g > 0"] * conditions))


def _workload(url: str, active: int, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            for columns in range(1, active + 1):
                conn.execute("SELECT count(*) FROM generate_series(1, 200) g WHERE g > " + " + ".join(["0"] * columns))


def _store_size(store_url: str) -> tuple[float, float, int, int]:
    with psycopg.connect(store_url) as conn:
        return conn.execute(STORE_SIZE_SQL).fetchone()


def measure_collector(target_url: str, store_url: str, seconds: int, active: int) -> dict:
    """Run `python -m dashboard collect` at FAST_PACES beside a workload; its share of the target's execution time,
    each read scaled to its default pace, its peak RSS, and the store's growth per collection (measured after a
    quarter of the run, so the base snapshot, the texts and the empty partitions do not count) scaled to a day at the
    default paces."""
    stop_workload = threading.Event()
    worker = threading.Thread(target=_workload, args=(target_url, active, stop_workload), daemon=True)
    with psycopg.connect(target_url) as conn:
        before = conn.execute(EXECUTION_TIME_SQL).fetchone()
    worker.start()
    env = {**os.environ, **{f"PGPULSE_{name.upper()}": str(value) for name, value in FAST_PACES.items()}}
    collector = psutil.Popen([sys.executable, "-m", "dashboard", "collect", "--database-url", target_url,
                              "--target", "bench", "--history-url", store_url], env=env, cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sizes, peak_rss = [], 0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        peak_rss = max(peak_rss, collector.memory_info().rss)
        if not sizes and time.monotonic() - began >= seconds / 4:
            sizes.append(_store_size(store_url))
        time.sleep(0.5)
    collector.send_signal(signal.SIGTERM)
    collector.wait(60)
    sizes.append(_store_size(store_url))
    stop_workload.set()
    worker.join()
    with psycopg.connect(target_url) as conn:
        after = conn.execute(EXECUTION_TIME_SQL).fetchone()
    statements_ms, database_ms, server_ms = (late - early for late, early in zip(after, before, strict=True))
    own_ms = statements_ms + database_ms
    at_defaults_ms = (statements_ms * FAST_PACES["history_statements_seconds"] / DEFAULT_PACES["history_statements_seconds"]
                      + database_ms * FAST_PACES["history_database_seconds"] / DEFAULT_PACES["history_database_seconds"])
    (statement_early, other_early, collections_early, samples_early), (statement_late, other_late, collections, samples) = sizes
    per_collection = (statement_late - statement_early) / max(collections - collections_early, 1)
    per_sample = (other_late - other_early) / max(samples - samples_early, 1)
    return {"collector_ms": own_ms, "server_ms": server_ms, "share_fast": own_ms / server_ms,
            "share_default": at_defaults_ms / (server_ms - own_ms + at_defaults_ms),
            "bytes_per_day": per_collection * 86400 / DEFAULT_PACES["history_statements_seconds"]
            + per_sample * 86400 / DEFAULT_PACES["history_database_seconds"],
            "collections": collections, "samples": samples, "peak_rss_bytes": peak_rss}


SIZE_METRICS = ("relation_sizes", "database_size", "index_scans")
# the store's bytes of the size and index-scan history, per table group: (per day, once per target)
SIZE_STORE_SQL = """SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
                               WHERE c.relname ~ '^(relation_size|database_size_sample)_p'), 0)::float8,
                           coalesce(sum(pg_total_relation_size(c.oid)) FILTER (
                               WHERE c.relname ~ '^(index_scan_delta|metric_collection)_p'), 0)::float8,
                           pg_total_relation_size('pgpulse.relation_name')::float8,
                           (SELECT count(*) FROM pgpulse.relation_size), (SELECT count(*) FROM pgpulse.index_scan_delta)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'pgpulse' AND c.relkind = 'r'"""


def _grow(url: str, tables: int, schemas: int, step: int) -> None:
    """`tables` tables of the catalog get 200 rows each (a few pages, their indexes too) and one index scan each."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("SET enable_seqscan = off")
        for number in range(tables):
            table = _table_name(number, schemas)
            conn.execute(sql.SQL("INSERT INTO {} SELECT g, g %% 7, md5(g::text), now() FROM generate_series(%s::int, %s::int) g")
                         .format(table), (1000 * step, 1000 * step + 199))
            conn.execute(sql.SQL("SELECT id FROM {} WHERE id = 1").format(table))
        conn.execute("SELECT pg_stat_force_next_flush()")


def measure_sizes(catalog_url: str, store_url: str, collections: int, growing: int, schemas: int) -> dict:
    """Size collections of a big catalog (relation sizes, the database's size, index scans) by the collector's own
    reads and writes, `growing` tables growing between them: the target's time per read, the store's bytes for the
    day's first (full) collection, per later collection, and the names kept once; cold range reads."""
    async def run() -> tuple[list, list]:
        collector = Collector([TargetConfig("catalog", catalog_url)], store_url)
        await collector.ensure_store()
        await collector.claim_targets()
        read_s, sizes = [], [_size_store(store_url)]
        for step in range(collections):
            if step:
                _grow(catalog_url, growing, schemas, step)
            timings = []
            for name in SIZE_METRICS:
                began = time.perf_counter()
                await collector.collect("catalog", catalogue.metric(name))
                timings.append(time.perf_counter() - began)
            read_s.append(timings)
            await collector.flush()
            sizes.append(_size_store(store_url))
        await collector.close()
        return read_s, sizes

    read_s, sizes = asyncio.run(run())
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE pgpulse.relation_size, pgpulse.index_scan_delta, pgpulse.relation_name")
    base = sizes[1][0] - sizes[0][0]
    changed = (sizes[-1][0] - sizes[1][0]) / max(collections - 1, 1)
    scans = (sizes[-1][1] - sizes[1][1]) / max(collections - 1, 1)
    per_day = base + changed * (86400 / 3600 - 1) + scans * 86400 / 600  # the default paces
    now = datetime.now(UTC)
    reads = {}
    for name, read in (("table_growth", table_growth), ("index_scans_over_range", index_scans_over_range),
                       ("unused_indexes_over_range", unused_indexes_over_range)):
        engine = make_engine(store_url)
        began = time.perf_counter()
        read(engine, "catalog", now - timedelta(hours=1), now + timedelta(seconds=1))
        reads[name] = time.perf_counter() - began
        engine.dispose()
    return {"relations": int(sizes[1][3]), "base_bytes": base, "changed_bytes": changed, "scan_bytes": scans,
            "names_bytes": sizes[-1][2], "bytes_per_day": per_day,
            "changed_rows": (sizes[-1][3] - sizes[1][3]) / max(collections - 1, 1),
            "sizes_read_s": min(timing[0] for timing in read_s), "scans_read_s": min(timing[2] for timing in read_s),
            "reads": reads}


def _size_store(store_url: str) -> tuple:
    with psycopg.connect(store_url) as conn:
        if conn.execute("SELECT to_regclass('pgpulse.relation_size')").fetchone()[0] is None:
            return (0.0, 0.0, 0.0, 0, 0)
        return conn.execute(SIZE_STORE_SQL).fetchone()


def _print_sizes(sizes: dict, args) -> None:
    print(f"sizes and index scans: {args.tables} tables = {sizes['relations']:,} relations with their indexes; "
          f"{args.growing} tables growing between {args.size_collections} collections "
          f"({sizes['changed_rows']:,.0f} size rows each)")
    print(f"  exact sizes read on the target: {sizes['sizes_read_s']:.2f} s, every hour = "
          f"{sizes['sizes_read_s'] / 3600:.3%} of one core; index scans read: {sizes['scans_read_s']:.3f} s, every "
          f"10 min = {sizes['scans_read_s'] / 600:.3%}")
    print(f"  store: the day's first collection (every relation) {sizes['base_bytes'] / 1e6:.2f} MB, a later one "
          f"{sizes['changed_bytes'] / 1e3:,.0f} kB, an index-scan collection {sizes['scan_bytes'] / 1e3:,.0f} kB; "
          f"names once per target {sizes['names_bytes'] / 1e6:.2f} MB")
    _ratio("  store growth per target and day for sizes and index scans at the default paces",
           sizes["bytes_per_day"] / 1e6, TARGETS["sizes_mb_per_day"], "MB")
    for name, seconds in sizes["reads"].items():
        _ratio(f"  {name} over 1 h, cold", seconds, 1.0, "s")


def measure_reads(store_url: str, days: int, statements: int, every: int) -> dict:
    """Generated history of `days` for `statements` statements, each running one minute in `every`, rolled up as the
    store does; cold range reads (a new engine each): name -> (seconds, goal in seconds)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    with psycopg.connect(store_url) as conn:
        target_id = conn.execute("INSERT INTO pgpulse.target (name, location) VALUES ('generated', 'bench') "
                                 "RETURNING target_id").fetchone()[0]
        conn.commit()
    engine = make_engine(store_url)
    with engine.connect() as conn:
        history_store.ensure_partitions(conn, [(start + timedelta(days=d)).date() for d in range(days + 1)])
    with psycopg.connect(store_url) as conn:
        for statement in GENERATE_SQL.strip().split(";\n"):
            conn.execute(statement, {"target_id": target_id, "start": start, "end": end, "statements": statements,
                                     "every": every})
        conn.commit()
    with engine.connect() as conn:
        history_store.roll_up(conn, now=end)
    engine.dispose()
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE pgpulse.statement_delta, pgpulse.statement_delta_hourly, "
                     "pgpulse.statement_collection")
    day_ago = end - timedelta(hours=24)
    # name: (goal in s, the read); the Queries page over 24 h / 7 d, a statement's page, the Overview's series
    reads = {"queries_24h": (0.5, lambda e: statements_over_range(e, "generated", day_ago, end)),
             f"queries_{days}d": (1.0, lambda e: statements_over_range(e, "generated", start, end)),
             "statement_24h": (0.3, lambda e: statement_series(e, "generated", 1, day_ago, end)),
             f"statement_{days}d": (0.3, lambda e: statement_series(e, "generated", 1, start, end)),
             "database_24h": (0.5, lambda e: database_series(e, "generated", day_ago, end))}
    timings = {}
    for name, (goal_s, read) in reads.items():
        engine = make_engine(store_url)
        began = time.perf_counter()
        read(engine)
        timings[name] = (time.perf_counter() - began, goal_s)
        engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=5000, help="distinct statements in pg_stat_statements")
    parser.add_argument("--active", type=int, default=50, help="statements the workload keeps running")
    parser.add_argument("--seconds", type=int, default=180,  # shorter runs see the store grow by whole pages
                        help="how long the collector runs")
    parser.add_argument("--days", type=int, default=7, help="days of generated history for the range reads")
    parser.add_argument("--history-statements", type=int, default=5000, help="statements in the generated history")
    parser.add_argument("--every", type=int, default=10,
                        help="each generated statement runs in one minute of this many (1: all of them every minute)")
    parser.add_argument("--tables", type=int, default=10_000, help="tables of the catalog sized (0: skip)")
    parser.add_argument("--growing", type=int, default=100, help="tables that grow between size collections")
    parser.add_argument("--size-collections", type=int, default=6, help="size collections of the catalog")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pgpulse-bench-history-") as folder:
        cluster = Cluster(embedded_bin_dir(), Path(folder) / "data", settings=dict(DEMO_SETTINGS)).start()
        try:
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                for name in ("bench_target", "bench_store", "bench_reads"):
                    conn.execute(f"CREATE DATABASE {name}")
            target, store, reads = (cluster.url(name) for name in ("bench_target", "bench_store", "bench_reads"))
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
            _run_statements(target, args.statements)
            costs = measure_collector(target, store, args.seconds, args.active)
            asyncio.run(_migrate(reads))
            timings = measure_reads(reads, args.days, args.history_statements, args.every)
            sizes = _measure_catalog(cluster, args) if args.tables else None
        finally:
            cluster.stop(mode="immediate")
    print(f"collector: {costs['collections']} statement collections, {costs['samples']} database samples in "
          f"{args.seconds} s at {FAST_PACES}; {args.statements} statements in pg_stat_statements, {args.active} running")
    _ratio("collector share of the server's execution time at the default paces", costs["share_default"] * 100,
           TARGETS["share_percent"], "%")
    print(f"  (at the fast paces above: {costs['share_fast']:.2%})")
    _ratio("store growth per target and day at the default paces", costs["bytes_per_day"] / 1e6,
           TARGETS["store_mb_per_day"], "MB")
    _ratio("collector peak RSS", costs["peak_rss_bytes"] / 1e6, TARGETS["rss_mb"], "MB")
    print(f"range reads, cold, {args.days} d generated for {args.history_statements} statements, each running one "
          f"minute in {args.every}:")
    for name, (seconds, goal_s) in timings.items():
        _ratio(f"  {name}", seconds, goal_s, "s")
    if sizes:
        _print_sizes(sizes, args)
    return 0


def _measure_catalog(cluster: Cluster, args) -> dict:
    """The scale bench's catalog (bench/generate_catalog.py) without its statements and sessions, and a store."""
    with build_catalog(cluster.url(), "bench_catalog", tables=args.tables, statements=0, idle_connections=0,
                       active_connections=0) as catalog:
        with psycopg.connect(cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE DATABASE bench_sizes_store")
        return measure_sizes(catalog.url, cluster.url("bench_sizes_store"), args.size_collections, args.growing,
                             catalog.params["schemas"])


async def _migrate(store_url: str) -> None:
    collector = Collector([], store_url)
    await collector.ensure_store()
    await collector.close()


if __name__ == "__main__":
    raise SystemExit(main())
