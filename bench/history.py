"""History costs from one run: the collector's share of the monitored server's execution time, the store's bytes per
target and day, and range-read times on generated history.

Run: .venv/bin/python -m bench.history [--statements 500 --active 20 --seconds 60 --days 1 --history-statements 500]
A throwaway PostgreSQL 18 (the wheel) under a temporary folder serves as target and store; nothing is reset: the
collector's share is the difference of pg_stat_statements sums before and after. Ratios are printed, nothing fails.
"""
from __future__ import annotations

import argparse
import asyncio
import tempfile
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg

from collector import Collector, TargetConfig
from demo.postgres import DEMO_SETTINGS, Cluster, embedded_bin_dir
from queries.connection import make_engine
from queries.history import database_series, statement_series, statements_over_range
from queries.history import store as history_store
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
# a generated history: every statement runs in every minute of every day (the worst case: no idle statements)
GENERATE_SQL = """
INSERT INTO pgpulse.statement_collection (target_id, sampled_at, interval_s, entries, evictions, stats_reset, server_restarted)
SELECT %(target_id)s, t, 60, %(statements)s, 0, false, false FROM generate_series(%(start)s, %(end)s, interval '1 minute') t;
INSERT INTO pgpulse.statement_delta
SELECT %(target_id)s, t, 60, 5, 10, q, true, 10, 10.0 + q %% 7, 0, 10, 30, 3, 0, 0, 0, 0, 0.1, 0, 0, 0
FROM generate_series(%(start)s, %(end)s, interval '1 minute') t, generate_series(1, %(statements)s) q;
INSERT INTO pgpulse.statement_text (target_id, queryid, query, first_seen_at)
SELECT %(target_id)s, q, 'SELECT ' || q, %(start)s FROM generate_series(1, %(statements)s) q ON CONFLICT DO NOTHING;
"""


def _run_statements(url: str, count: int) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for columns in range(1, count + 1):
            conn.execute("SELECT " + ", ".join(["1"] * columns))


def _workload(url: str, active: int, stop: threading.Event) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            for columns in range(1, active + 1):
                conn.execute("SELECT count(*) FROM generate_series(1, 200) g WHERE g > " + " + ".join(["0"] * columns))


def _store_size(store_url: str) -> tuple[float, float, int, int]:
    with psycopg.connect(store_url) as conn:
        return conn.execute(STORE_SIZE_SQL).fetchone()


def measure_collector(target_url: str, store_url: str, seconds: int, active: int) -> dict:
    """Run the collector at FAST_PACES beside a workload; its share of the target's execution time, each read scaled
    to its default pace, and the store's growth per collection (measured after a quarter of the run, so the base
    snapshot, the texts and the empty partitions do not count) scaled to a day at the default paces."""
    stop_workload = threading.Event()
    worker = threading.Thread(target=_workload, args=(target_url, active, stop_workload), daemon=True)
    with psycopg.connect(target_url) as conn:
        before = conn.execute(EXECUTION_TIME_SQL).fetchone()
    worker.start()
    sizes = []

    async def collect() -> None:
        collector, stop = Collector([TargetConfig("bench", target_url)], store_url, paces=FAST_PACES), asyncio.Event()
        running = asyncio.create_task(collector.run(stop))
        await asyncio.sleep(seconds / 4)
        sizes.append(await asyncio.to_thread(_store_size, store_url))
        await asyncio.sleep(seconds * 3 / 4)
        stop.set()
        await running
        sizes.append(await asyncio.to_thread(_store_size, store_url))

    asyncio.run(collect())
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
            "collections": collections, "samples": samples}


def measure_reads(store_url: str, days: int, statements: int) -> dict:
    """Generated history of `days` for `statements` statements; cold range reads (a new engine each)."""
    end = datetime.now(UTC).replace(second=0, microsecond=0)
    start = end - timedelta(days=days)
    with psycopg.connect(store_url) as conn:
        target_id = conn.execute("INSERT INTO pgpulse.target (name, location) VALUES ('generated', 'bench') "
                                 "RETURNING target_id").fetchone()[0]
        conn.commit()
    engine = make_engine(store_url)
    with engine.connect() as conn:
        history_store.ensure_partitions(conn, [(start + timedelta(days=d)).date() for d in range(days + 1)])
    engine.dispose()
    with psycopg.connect(store_url) as conn:
        for statement in GENERATE_SQL.strip().split(";\n"):
            conn.execute(statement, {"target_id": target_id, "start": start, "end": end, "statements": statements})
        conn.commit()
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE pgpulse.statement_delta, pgpulse.statement_collection")
    timings = {}
    reads = {"queries_24h": lambda e: statements_over_range(e, "generated", end - timedelta(hours=24), end),
             f"queries_{days}d": lambda e: statements_over_range(e, "generated", start, end),
             "statement_24h": lambda e: statement_series(e, "generated", 1, end - timedelta(hours=24), end),
             "database_24h": lambda e: database_series(e, "generated", end - timedelta(hours=24), end)}
    for name, read in reads.items():
        engine = make_engine(store_url)
        began = time.perf_counter()
        read(engine)
        timings[name] = time.perf_counter() - began
        engine.dispose()
    return timings


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--statements", type=int, default=500, help="distinct statements in pg_stat_statements")
    parser.add_argument("--active", type=int, default=20, help="statements the workload keeps running")
    parser.add_argument("--seconds", type=int, default=60, help="how long the collector runs")
    parser.add_argument("--days", type=int, default=1, help="days of generated history for the range reads")
    parser.add_argument("--history-statements", type=int, default=500, help="statements in the generated history")
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
            timings = measure_reads(reads, args.days, args.history_statements)
        finally:
            cluster.stop(mode="immediate")
    print(f"collector: {costs['collections']} statement collections, {costs['samples']} database samples in "
          f"{args.seconds} s at {FAST_PACES}")
    print(f"collector share of the server's execution time: {costs['share_fast']:.2%} at those paces, "
          f"{costs['share_default']:.2%} scaled to the defaults ({args.statements} statements, {args.active} active)")
    print(f"store: {costs['bytes_per_day'] / 1e6:.1f} MB per target and day at the default paces")
    for name, seconds in timings.items():
        print(f"range read {name} ({args.history_statements} statements, {args.days} d generated): {seconds:.3f} s cold")
    return 0


async def _migrate(store_url: str) -> None:
    collector = Collector([], store_url)
    await collector.ensure_store()
    await collector.close()


if __name__ == "__main__":
    raise SystemExit(main())
