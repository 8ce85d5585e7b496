"""History costs from one run: the collector's share of the monitored server's execution time (active session sampling
on its own), the store's bytes per target and day (a day of session samples on its own), and range-read times on
generated history (the Database load chart's too).

Run: .venv/bin/python -m bench.history [--statements 5000 --connections 200 --active 50 --seconds 180 --days 7
     --history-statements 5000 --every 10 --history-sessions 50 --tables 10000 --growing 100 --size-collections 6]
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
from queries.history.load import database_load
from queries.history.sampling import BUCKET_S
from queries.history.sizes import index_scans_over_range, table_growth, unused_indexes_over_range
from queries.sql_loader import OWN_STATEMENT_MARK

FAST_PACES = {"history_statements_seconds": 10, "history_database_seconds": 2}
DEFAULT_PACES = {"history_statements_seconds": 60, "history_database_seconds": 10}
# the target's execution time by who spent it: the sampler's statements (select_active_sessions; select_blocking_tree
# when a session waits on a lock),
# the transaction set-up every read sends, the collector's pg_stat_statements reads, its other reads, and the rest
# (the workload; pg_sleep apart: a sleeping session is active for the sampler but spends no server time)
EXECUTION_TIME_SQL = f"""
SELECT CASE WHEN query LIKE '%{OWN_STATEMENT_MARK}%' AND query LIKE '%query_id_computed%' THEN 'sampling'
            WHEN query LIKE '%{OWN_STATEMENT_MARK}%' AND query LIKE '%pg_blocking_pids%' THEN 'lock_tree'
            WHEN query LIKE '%{OWN_STATEMENT_MARK}%' AND query LIKE '%set_config(%' THEN 'setup'
            WHEN query LIKE '%{OWN_STATEMENT_MARK}%' AND query LIKE '%pg_stat_statements%' THEN 'statements'
            WHEN query LIKE '%{OWN_STATEMENT_MARK}%' THEN 'database'
            WHEN query LIKE '%pg_sleep%' THEN 'sleep'
            ELSE 'workload' END AS part,
       coalesce(sum(total_exec_time), 0)::float8 AS time_ms, coalesce(sum(calls), 0)::bigint AS calls
FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = current_database())
GROUP BY 1"""
ACTIVITY_TABLES = ("activity_bucket", "activity_load", "lock_wait_sample")
STORE_SIZE_SQL = """SELECT coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname LIKE 'statement%%'), 0)::float8,
                           coalesce(sum(pg_total_relation_size(c.oid)) FILTER (WHERE c.relname NOT LIKE 'statement%%'
                                    AND c.relname NOT LIKE 'activity%%' AND c.relname NOT LIKE 'lock_wait%%'), 0)::float8,
                           (SELECT count(*) FROM pgpulse.statement_collection),
                           (SELECT count(*) FROM pgpulse.database_delta)
                    FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace
                    WHERE n.nspname = 'pgpulse' AND c.relkind = 'r'"""
# the active session samples: each table's bytes (heap, index, TOAST of its partitions) and rows, and the seconds sampled
ACTIVITY_SIZE_SQL = """SELECT p.relname, coalesce(sum(pg_total_relation_size(c.oid)), 0)::float8
                       FROM pg_class p JOIN pg_namespace n ON n.oid = p.relnamespace
                       LEFT JOIN pg_inherits i ON i.inhparent = p.oid LEFT JOIN pg_class c ON c.oid = i.inhrelid
                       WHERE n.nspname = 'pgpulse' AND p.relname = ANY(%s) GROUP BY p.relname"""
ACTIVITY_ROWS_SQL = """SELECT (SELECT count(*) FROM pgpulse.activity_bucket), (SELECT count(*) FROM pgpulse.activity_load),
                              (SELECT count(*) FROM pgpulse.lock_wait_sample),
                              (SELECT coalesce(sum(samples * every_s), 0)::float8 FROM pgpulse.activity_bucket)"""
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

# generated active session history: a bucket every 10 s, `sessions` combinations in each (their waits, statements,
# applications and clients varied), as a day of 1 s samples of that many active sessions is stored
GENERATE_ACTIVITY_SQL = """
INSERT INTO pgpulse.activity_bucket (target_id, sampled_at, bucket_s, samples, max_connections, cpu_count, every_s,
                                     query_id_computed)
SELECT %(target_id)s, t, 10, 10, 200, 2, 1, true FROM generate_series(%(start)s, %(end)s, interval '10 seconds') t;
INSERT INTO pgpulse.activity_load (target_id, sampled_at, state, wait_event_type, wait_event, query_id, user_name,
                                   application_name, database_name, client_addr, backend_type, samples)
SELECT %(target_id)s, t, 'active', (ARRAY[NULL, 'IO', 'Lock', 'LWLock', 'Client'])[1 + s %% 5],
       (ARRAY[NULL, 'DataFileRead', 'transactionid', 'BufferMapping', 'ClientRead'])[1 + s %% 5], s %% 500, 'app',
       'app-' || s %% 5, 'app', '10.0.0.' || s %% 20, 'client backend', 1 + s %% 10
FROM generate_series(%(start)s, %(end)s, interval '10 seconds') t, generate_series(1, %(sessions)s) s;
"""

# the goals: the collector's share of the server's time, store size per target and day, RSS, cold reads
TARGETS = {"share_percent": 0.5, "store_mb_per_day": 50, "rss_mb": 150, "sizes_mb_per_day": 10,
           "sampling_share_percent": 0.3, "activity_mb_per_day": 30}


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
    """One session running `active` distinct statements one after the other (CPU work for the server)."""
    with psycopg.connect(url, autocommit=True) as conn:
        while not stop.is_set():
            for columns in range(1, active + 1):
                conn.execute("SELECT count(*) FROM generate_series(1, 200) g WHERE g > " + " + ".join(["0"] * columns))


def _sleeper(url: str, number: int, stop: threading.Event) -> None:
    """An active session that costs the server nothing: its own statement (a query id of its own) in pg_sleep, from one
    of 5 applications, so the samples have one combination per session as a real pool's sessions would."""
    statement = "SELECT pg_sleep(0.5)" + ", 1" * number
    with psycopg.connect(url, autocommit=True, application_name=f"bench-app-{number % 5}") as conn:
        while not stop.is_set():
            conn.execute(statement)


def _sessions(url: str, connections: int, active: int, stop: threading.Event) -> tuple[list, list[threading.Thread]]:
    """`connections` sessions on the target: `active` of them active all the time (one running statements, the others
    sleeping in pg_sleep), the rest idle. Returns the idle connections and the threads, to close and join."""
    idle = [psycopg.connect(url, autocommit=True, application_name="bench-idle") for _ in range(connections - active)]
    threads = [threading.Thread(target=_workload, args=(url, 50, stop), daemon=True)]
    threads += [threading.Thread(target=_sleeper, args=(url, number, stop), daemon=True) for number in range(active - 1)]
    for thread in threads:
        thread.start()
    return idle, threads


def _store_size(store_url: str) -> tuple[float, float, int, int]:
    with psycopg.connect(store_url) as conn:
        return conn.execute(STORE_SIZE_SQL).fetchone()


def _activity_size(store_url: str) -> tuple[dict[str, float], tuple[int, int, int, float]]:
    """Bytes per activity table, and the rows of each with the seconds sampled."""
    with psycopg.connect(store_url) as conn:
        sizes = dict(conn.execute(ACTIVITY_SIZE_SQL, [list(ACTIVITY_TABLES)]).fetchall())
        return sizes, conn.execute(ACTIVITY_ROWS_SQL).fetchone()


def _execution_times(target_url: str) -> dict[str, tuple[float, int]]:
    with psycopg.connect(target_url) as conn:
        return {part: (time_ms, calls) for part, time_ms, calls in conn.execute(EXECUTION_TIME_SQL)}


def measure_collector(target_url: str, store_url: str, seconds: int, connections: int, active: int) -> dict:
    """Run `python -m dashboard collect` at FAST_PACES (sampling at its default, 1 s) beside `connections` sessions of
    which `active` are active; its share of the target's execution time, each read scaled to its default pace (the
    sampling not: it runs at its default), its peak RSS, and the store's growth (measured after a quarter of the run, so
    the base snapshot, the texts and the empty partitions do not count) scaled to a day at the default paces."""
    stop_sessions = threading.Event()
    before = _execution_times(target_url)
    idle, threads = _sessions(target_url, connections, active, stop_sessions)
    env = {**os.environ, **{f"PGPULSE_{name.upper()}": str(value) for name, value in FAST_PACES.items()}}
    collector = psutil.Popen([sys.executable, "-m", "dashboard", "collect", "--database-url", target_url,
                              "--target", "bench", "--history-url", store_url], env=env, cwd=REPO_ROOT,
                             stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    sizes, activity, peak_rss = [], [], 0
    began = time.monotonic()
    while time.monotonic() - began < seconds:
        peak_rss = max(peak_rss, collector.memory_info().rss)
        if not sizes and time.monotonic() - began >= seconds / 4:
            sizes.append(_store_size(store_url))
            activity.append((time.monotonic(), _activity_size(store_url)))
        time.sleep(0.5)
    activity.append((time.monotonic(), _activity_size(store_url)))
    collector.send_signal(signal.SIGTERM)
    collector.wait(60)
    sizes.append(_store_size(store_url))
    stop_sessions.set()
    for thread in threads:
        thread.join()
    for conn in idle:
        conn.close()
    after = _execution_times(target_url)
    spent = {part: after.get(part, (0.0, 0))[0] - before.get(part, (0.0, 0))[0] for part in after}
    calls = {part: after.get(part, (0.0, 0))[1] - before.get(part, (0.0, 0))[1] for part in after}
    return {**_shares(spent, calls), **_growth(sizes), **_activity_growth(activity), "peak_rss_bytes": peak_rss}


def _shares(spent: dict[str, float], calls: dict[str, int]) -> dict:
    """The collector's and the sampler's shares of the server's execution time (pg_sleep is not execution), at the
    default paces: the statements and database reads scaled to their default paces, the sampling as it ran (1 s)."""
    samples = calls.get("sampling", 0)
    setup_mean_ms = spent.get("setup", 0.0) / max(calls.get("setup", 0), 1)
    # each sample: its transaction set-up, its pg_stat_activity read and, when a session waited on a lock, the tree
    sampling_ms = spent.get("sampling", 0.0) + spent.get("lock_tree", 0.0) + setup_mean_ms * samples
    reads_setup_ms = spent.get("setup", 0.0) - setup_mean_ms * samples
    own_ms = sum(spent.get(part, 0.0) for part in ("statements", "database", "setup", "sampling", "lock_tree"))
    scale_statements = FAST_PACES["history_statements_seconds"] / DEFAULT_PACES["history_statements_seconds"]
    scale_database = FAST_PACES["history_database_seconds"] / DEFAULT_PACES["history_database_seconds"]
    reads_at_defaults_ms = (spent.get("statements", 0.0) * scale_statements
                            + (spent.get("database", 0.0) + reads_setup_ms) * scale_database)
    server_ms = sum(time_ms for part, time_ms in spent.items() if part != "sleep")
    at_defaults_server_ms = server_ms - own_ms + reads_at_defaults_ms + sampling_ms
    return {"collector_ms": own_ms, "server_ms": server_ms, "share_fast": own_ms / server_ms,
            "share_default": (reads_at_defaults_ms + sampling_ms) / at_defaults_server_ms,
            "sampling_share": sampling_ms / at_defaults_server_ms, "sampling_ms_per_sample": sampling_ms / max(samples, 1),
            "ms_per_s_at_defaults": (reads_at_defaults_ms + sampling_ms) / max(samples, 1),  # a sample a second
            "samples_taken": samples, "lock_trees": calls.get("lock_tree", 0)}


def _growth(sizes: list[tuple]) -> dict:
    (statement_early, other_early, collections_early, samples_early), (statement_late, other_late, collections, samples) = sizes
    per_collection = (statement_late - statement_early) / max(collections - collections_early, 1)
    per_sample = (other_late - other_early) / max(samples - samples_early, 1)
    return {"bytes_per_day": per_collection * 86400 / DEFAULT_PACES["history_statements_seconds"]
            + per_sample * 86400 / DEFAULT_PACES["history_database_seconds"],
            "collections": collections, "samples": samples}


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


def _activity_growth(activity: list) -> dict:
    """Each activity table's rows stored per second sampled, from the quarter mark to the end of the run."""
    (_, (_, early)), (_, (_, late)) = activity
    sampled_s = late[3] - early[3]
    rows_per_s = {table: (late_rows - early_rows) / max(sampled_s, 1e-9)
                  for table, early_rows, late_rows in zip(ACTIVITY_TABLES, early[:3], late[:3], strict=True)}
    return {"activity_rows_per_s": rows_per_s, "activity_rows_per_bucket": rows_per_s["activity_load"] * BUCKET_S}


def activity_bytes_per_row(store_url: str) -> dict[str, float]:
    """Bytes per row of each activity table (heap, indexes) where it holds many rows: the generated history's store."""
    sizes, (buckets, loads, locks, _) = _activity_size(store_url)
    return {table: sizes.get(table, 0.0) / rows for table, rows in zip(ACTIVITY_TABLES, (buckets, loads, locks), strict=True)
            if rows}


def measure_reads(store_url: str, days: int, statements: int, every: int, sessions: int) -> dict:
    """Generated history of `days` for `statements` statements, each running one minute in `every`, rolled up as the
    store does, and active session samples of `sessions` combinations per bucket; cold range reads (a new engine
    each): name -> (seconds, goal in seconds)."""
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
        for statement in GENERATE_ACTIVITY_SQL.strip().split(";\n"):
            conn.execute(statement, {"target_id": target_id, "start": start, "end": end - timedelta(seconds=10),
                                     "sessions": sessions})
        conn.commit()
    with engine.connect() as conn:
        history_store.roll_up(conn, now=end)
    engine.dispose()
    with psycopg.connect(store_url, autocommit=True) as conn:
        conn.execute("VACUUM ANALYZE pgpulse.statement_delta, pgpulse.statement_delta_hourly, "
                     "pgpulse.statement_collection, pgpulse.activity_bucket, pgpulse.activity_load")
    day_ago = end - timedelta(hours=24)
    # name: (goal in s, the read); the Queries page over 24 h / 7 d, a statement's page, the Overview's series
    reads = {"queries_24h": (0.5, lambda e: statements_over_range(e, "generated", day_ago, end)),
             f"queries_{days}d": (1.0, lambda e: statements_over_range(e, "generated", start, end)),
             "statement_24h": (0.3, lambda e: statement_series(e, "generated", 1, day_ago, end)),
             f"statement_{days}d": (0.3, lambda e: statement_series(e, "generated", 1, start, end)),
             "database_24h": (0.5, lambda e: database_series(e, "generated", day_ago, end)),
             # the Database load chart (Activity; by wait event type, its default split)
             "load_24h": (0.5, lambda e: database_load(e, "generated", day_ago, end)),
             f"load_{days}d": (1.0, lambda e: database_load(e, "generated", start, end))}
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
    parser.add_argument("--connections", type=int, default=200, help="sessions connected to the target")
    parser.add_argument("--active", type=int, default=50, help="of them active all the time (one running the "
                        "statements, the others in pg_sleep)")
    parser.add_argument("--seconds", type=int, default=180,  # shorter runs see the store grow by whole pages
                        help="how long the collector runs")
    parser.add_argument("--days", type=int, default=7, help="days of generated history for the range reads")
    parser.add_argument("--history-statements", type=int, default=5000, help="statements in the generated history")
    parser.add_argument("--every", type=int, default=10,
                        help="each generated statement runs in one minute of this many (1: all of them every minute)")
    parser.add_argument("--tables", type=int, default=10_000, help="tables of the catalog sized (0: skip)")
    parser.add_argument("--growing", type=int, default=100, help="tables that grow between size collections")
    parser.add_argument("--size-collections", type=int, default=6, help="size collections of the catalog")
    parser.add_argument("--history-sessions", type=int, default=50,
                        help="combinations per 10 s bucket in the generated active session history")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="pgpulse-bench-history-") as folder:
        settings = {**DEMO_SETTINGS, "max_connections": str(args.connections + 50)}  # the sessions, the collector, us
        cluster = Cluster(embedded_bin_dir(), Path(folder) / "data", settings=settings).start()
        try:
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                for name in ("bench_target", "bench_store", "bench_reads"):
                    conn.execute(f"CREATE DATABASE {name}")
            target, store, reads = (cluster.url(name) for name in ("bench_target", "bench_store", "bench_reads"))
            with psycopg.connect(target, autocommit=True) as conn:
                conn.execute("CREATE EXTENSION pg_stat_statements")
            _run_statements(target, args.statements)
            costs = measure_collector(target, store, args.seconds, args.connections, args.active)
            _print_collector(costs, args)
            asyncio.run(_migrate(reads))
            timings = measure_reads(reads, args.days, args.history_statements, args.every, args.history_sessions)
            bytes_per_row = activity_bytes_per_row(reads)
            sizes = _measure_catalog(cluster, args) if args.tables else None
        finally:
            cluster.stop(mode="immediate")
    _print_activity_day(costs, bytes_per_row, args)
    print(f"range reads, cold, {args.days} d generated for {args.history_statements} statements, each running one "
          f"minute in {args.every}, and {args.history_sessions} session combinations per 10 s bucket:")
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


def _print_collector(costs: dict, args: argparse.Namespace) -> None:
    print(f"collector: {costs['collections']} statement collections, {costs['samples']} database samples and "
          f"{costs['samples_taken']} activity samples in {args.seconds} s at {FAST_PACES}, sampling every 1 s; "
          f"{args.statements} statements in pg_stat_statements; {args.connections} sessions, {args.active} active")
    _ratio("collector share of the server's execution time at the default paces", costs["share_default"] * 100,
           TARGETS["share_percent"], "%")
    print(f"  (at the fast paces above: {costs['share_fast']:.2%}; the server's execution time is the one session "
          f"running statements, pg_sleep not counted; in all {costs['ms_per_s_at_defaults']:.2f} ms of server time a "
          f"second at the default paces, {costs['ms_per_s_at_defaults'] / 10:.3f} % of one CPU)")
    _ratio("collector peak RSS", costs["peak_rss_bytes"] / 1e6, TARGETS["rss_mb"], "MB")
    _ratio("store growth per target and day at the default paces (session samples apart)", costs["bytes_per_day"] / 1e6,
           TARGETS["store_mb_per_day"], "MB")
    # a sample's server time against one CPU-second a second: a server with 50 sessions active executes far more
    per_cpu = costs["sampling_ms_per_sample"] / 1000 * 100
    _ratio("active session sampling every 1 s, share of one CPU", per_cpu, TARGETS["sampling_share_percent"], "%")
    print(f"  ({costs['sampling_ms_per_sample']:.3f} ms of server time a sample, its transaction set-up included; "
          f"{costs['lock_trees']} blocking trees read; {costs['sampling_share']:.3%} of the execution time of the one "
          f"session running statements, the {args.active - 1} in pg_sleep not counted)")


def _print_activity_day(costs: dict, bytes_per_row: dict[str, float], args: argparse.Namespace) -> None:
    """A day of session samples: rows stored per second sampled in the run x bytes per row at the generated scale
    (no lock waits in the run: lock_wait_sample adds nothing here)."""
    per_day = sum(rate * bytes_per_row.get(table, 0.0) * 86400 for table, rate in costs["activity_rows_per_s"].items())
    _ratio("a day of active session samples", per_day / 1e6, TARGETS["activity_mb_per_day"], "MB")
    rows_per_s = ", ".join(f"{table} {rate:.2f}" for table, rate in costs["activity_rows_per_s"].items())
    row_bytes = ", ".join(f"{table} {size:.0f}" for table, size in bytes_per_row.items())
    print(f"  (rows stored per second sampled: {rows_per_s}, {costs['activity_rows_per_bucket']:.0f} combinations a "
          f"10 s bucket; bytes per row with its index, at {args.days} d: {row_bytes})")


async def _migrate(store_url: str) -> None:
    collector = Collector([], store_url)
    await collector.ensure_store()
    await collector.close()


if __name__ == "__main__":
    raise SystemExit(main())
