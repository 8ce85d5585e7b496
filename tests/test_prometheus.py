"""The collector's /metrics on real servers: exact figures after known transactions, sessions, a slot and an invalid
index; a stopped target is pg_up 0 while the other stays 1, and 1 again once restarted; a forgotten target is gone;
no password in a scrape; no listener unless a port is given."""
from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import sys
import time
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest
from prometheus_client.parser import text_string_to_metric_families

from collector import Collector, TargetConfig
from collector.prometheus import METRICS_READ, MetricsServer
from dashboard.config import REPO_ROOT, ConfigError, load_settings
from demo.postgres import free_port
from queries import catalogue
from tests.conftest import create_database, flush_statistics, run_and_flush, start_cluster
from tests.history_support import new_store
from tests.test_cli import run_cli

SECRET = "hunter2-prom-secret"


def with_password(url: str) -> str:
    """The URL with a password (the test servers trust 127.0.0.1, so it is never checked; it must never show)."""
    return url.replace("postgresql://postgres@", f"postgresql://postgres:{SECRET}@")


def scrape(port: int) -> str:
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/metrics", timeout=10) as response:
        return response.read().decode()


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """Every sample of a scrape: (name, its labels) -> value."""
    return {(sample.name, frozenset(sample.labels.items())): sample.value
            for family in text_string_to_metric_families(text) for sample in family.samples}


def value(found: dict, name: str, **labels: str) -> float | None:
    return found.get((name, frozenset(labels.items())))


def targets_in(found: dict) -> set[str]:
    return {dict(labels)["target"] for _, labels in found}


@pytest.fixture
def other_cluster(pg_version, tmp_path):
    """A second server of the session server's version, for the test to stop."""
    version = str(pg_version // 10000)
    cluster = start_cluster(version, tmp_path / f"other{version}")
    run_and_flush(cluster.url("postgres"), "CREATE EXTENSION pg_stat_statements")
    yield cluster
    cluster.stop(mode="immediate")


@pytest.fixture
def slot(pg_admin_url):
    """An inactive physical replication slot that reserves WAL from now on (dropped afterwards)."""
    name = f"prom_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (name,))
    yield name
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute("SELECT pg_drop_replication_slot(%s)", (name,))


def _retained_bytes(admin_url: str, slot_name: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT pg_wal_lsn_diff(pg_current_wal_lsn(), restart_lsn)::bigint FROM pg_replication_slots "
                            "WHERE slot_name = %s", (slot_name,)).fetchone()[0]


def _frozen_xid_age(admin_url: str, datname: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT age(datfrozenxid) FROM pg_database WHERE datname = %s", (datname,)).fetchone()[0]


def drop_database(admin_url: str, url: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{url.rsplit("/", 1)[1]}" WITH (FORCE)')


def _xact_commit(admin_url: str, datname: str) -> int:
    with psycopg.connect(admin_url) as conn:
        return conn.execute("SELECT xact_commit FROM pg_stat_database WHERE datname = %s", (datname,)).fetchone()[0]


def _invalid_index(url: str) -> None:
    """A unique index built concurrently over duplicates fails and stays behind, invalid."""
    run_and_flush(url, "CREATE TABLE dup AS SELECT 1 AS id FROM generate_series(1, 2)")
    with psycopg.connect(url, autocommit=True) as conn:
        with pytest.raises(psycopg.errors.UniqueViolation):
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY dup_id ON dup (id)")
        flush_statistics(conn)  # the transactions it committed before failing


async def _sample_until_a_bucket_closes(collector: Collector, name: str) -> None:
    """Samples until one falls in the next 10 s bucket (the open bucket closes then)."""
    while collector.held[name].last_bucket is None:
        assert await collector.sample(name)
        await asyncio.sleep(0.5)


def test_metrics_show_exact_figures_of_a_known_state(fresh_db, pg_admin_url, other_cluster, slot):
    datname = fresh_db.rsplit("/", 1)[1]
    app, other = with_password(fresh_db), with_password(other_cluster.url("postgres"))
    server = f"127.0.0.1:{fresh_db.split(':')[2].split('/')[0]}"
    other_server = f"127.0.0.1:{other_cluster.port}"
    run_and_flush(fresh_db, "CREATE TABLE hits (id int)")
    _invalid_index(fresh_db)
    counters = catalogue.metric("database_counters")
    port = free_port()
    scrapes: dict[str, str] = {}
    bounds: dict[str, tuple[int, int]] = {}

    async def main() -> None:
        collector = Collector([TargetConfig("app", app), TargetConfig("other", other)], new_store(pg_admin_url),
                              keep_latest=METRICS_READ, server_figures=True)
        metrics = MetricsServer(collector, "127.0.0.1", port)
        idle = await asyncio.to_thread(psycopg.connect, fresh_db)  # idle in transaction from here on
        await asyncio.to_thread(idle.execute, "SELECT 1")
        try:
            assert await collector.ensure_store()
            await collector.claim_targets()
            for name in ("app", "other"):
                for metric in collector.metrics:
                    assert await collector.collect(name, metric)
            # a new connection counts a commit as it starts (its catalog lookups): the writer connects first, and
            # every backend publishes its counts (within a second of going idle) before the first figures count
            writer = await asyncio.to_thread(psycopg.connect, fresh_db, autocommit=True)
            await asyncio.to_thread(flush_statistics, writer)
            await asyncio.sleep(1.5)
            assert await collector.collect("app", counters)
            scrapes["before"] = scrape(port)
            for _ in range(7):  # 7 inserts and the flush's SELECT: 8 committed transactions
                await asyncio.to_thread(writer.execute, "INSERT INTO hits VALUES (1)")
            await asyncio.to_thread(flush_statistics, writer)
            await asyncio.to_thread(writer.close)
            assert await collector.collect("app", counters)
            bounds["commits"] = (0, _xact_commit(pg_admin_url, datname))
            low = (_retained_bytes(pg_admin_url, slot), _frozen_xid_age(pg_admin_url, datname))
            assert await collector.read_figures("app", ("live", "catalog"))
            high = (_retained_bytes(pg_admin_url, slot), _frozen_xid_age(pg_admin_url, datname))
            bounds.update(retained=(low[0], high[0]), age=(low[1], high[1]))
            await _sample_until_a_bucket_closes(collector, "app")
            other_cluster.stop(mode="immediate")
            assert not await collector.collect("other", counters)
            scrapes["after"] = scrape(port)
            other_cluster.start()
            assert await collector.collect("other", counters)
            scrapes["back"] = scrape(port)
            await collector._forget("other")  # given up (e.g. to another collector): gone from the next scrape
            scrapes["forgotten"] = scrape(port)
        finally:
            await asyncio.to_thread(idle.close)
            metrics.close()
            await collector.close()

    asyncio.run(main())
    before, after = samples(scrapes["before"]), samples(scrapes["after"])
    app_db = {"target": "app", "server": server, "datname": datname}
    assert value(before, "pg_up", target="app", server=server) == 1
    assert value(before, "pg_up", target="other", server=other_server) == 1
    def grew(counter: str) -> float:
        return value(after, f"pg_stat_database_{counter}", **app_db) - value(before, f"pg_stat_database_{counter}", **app_db)

    assert grew("tup_inserted") == 7
    # 7 inserts and the flush's SELECT; an autovacuum worker visiting the database may commit in between too
    assert 8 <= grew("xact_commit") <= bounds["commits"][1] - value(before, "pg_stat_database_xact_commit", **app_db)
    assert value(after, "pg_stat_database_blks_hit", **app_db) > value(before, "pg_stat_database_blks_hit", **app_db)
    assert value(after, "pg_stat_activity_count", **app_db, state="idle in transaction") == 1
    # every sample of the closed bucket found the idle-in-transaction session, and only it in that state
    assert value(after, "pgpulse_average_active_sessions", **app_db, state="idle in transaction") == 1.0
    figures = {"target": "app", "server": server}
    assert value(after, "pg_replication_is_replica", **figures) == 0
    assert value(after, "pg_replication_lag_seconds", **figures) == 0
    assert value(after, "pg_replication_slots_active", **figures, slot_name=slot, database="") == 0
    retained = value(after, "pg_replication_slots_pg_wal_lsn_diff", **figures, slot_name=slot, database="")
    assert bounds["retained"][0] <= retained <= bounds["retained"][1] and retained > 0
    age = value(after, "pg_database_wraparound_age_datfrozenxid_seconds", **figures, datname=datname)
    assert bounds["age"][0] <= age <= bounds["age"][1]
    assert value(after, "pgpulse_health_check_status", **figures, check="Invalid indexes") == 1  # warn: dup_id
    assert value(after, "pgpulse_health_check_status", **figures, check="Inactive replication slots") == 0  # < 1 GB
    assert value(after, "pgpulse_health_check_status", **figures, check="Replication lag") == 0
    # the stopped server: pg_up 0 and none of its figures (no stale values); the other stays up
    assert value(after, "pg_up", target="other", server=other_server) == 0
    assert {name for name, labels in after if dict(labels)["target"] == "other"} == {
        "pg_up", "pgpulse_last_poll_timestamp_seconds"}
    assert value(after, "pg_up", target="app", server=server) == 1
    back = samples(scrapes["back"])
    assert value(back, "pg_up", target="other", server=other_server) == 1  # reached again at its next poll
    assert value(back, "pg_stat_database_xact_commit", target="other", server=other_server, datname="postgres") > 0
    assert targets_in(samples(scrapes["forgotten"])) == {"app"}
    for text in scrapes.values():
        assert SECRET not in text and "postgresql://" not in text


def _listening_ports(pid: int) -> set[int]:
    """The TCP ports process `pid` listens on (its socket inodes among /proc/net/tcp*'s LISTEN rows)."""
    inodes = set()
    for fd in Path(f"/proc/{pid}/fd").iterdir():
        try:
            link = os.readlink(fd)
        except OSError:
            continue
        if link.startswith("socket:["):
            inodes.add(link[8:-1])
    ports = set()
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        for line in Path(table).read_text().splitlines()[1:]:
            fields = line.split()
            if fields[3] == "0A" and fields[9] in inodes:  # 0A: LISTEN
                ports.add(int(fields[1].rsplit(":", 1)[1], 16))
    return ports


def _start_collector(store: str, targets: str, *args: str) -> subprocess.Popen:
    env = {"PATH": "/usr/bin:/bin", "PGPULSE_SECRETS": "/nonexistent.toml", "PGPULSE_HISTORY_DATABASE_SECONDS": "1",
           "PGPULSE_TARGETS": targets}
    return subprocess.Popen([sys.executable, "-m", "dashboard", "collect", "--history-url", store, *args],
                            cwd=REPO_ROOT, env=env, stderr=subprocess.PIPE, text=True)


def _scrape_when(port: int, ready, timeout_s: float = 60) -> str:
    deadline = time.monotonic() + timeout_s
    while True:
        try:
            text = scrape(port)
            if ready(samples(text)):
                return text
        except OSError:
            pass  # not listening yet
        if time.monotonic() > deadline:
            raise AssertionError("no scrape with the figures in time")
        time.sleep(0.3)


def test_collect_serves_metrics_on_the_port_it_is_given(fresh_db, pg_admin_url, other_cluster):
    store, port = new_store(pg_admin_url), free_port()
    datname, server = fresh_db.rsplit("/", 1)[1], f"127.0.0.1:{fresh_db.split(':')[2].split('/')[0]}"
    other_server = f"127.0.0.1:{other_cluster.port}"
    bare = create_database(pg_admin_url, f"bare_{uuid.uuid4().hex[:8]}", extension=False)  # no pg_stat_statements
    targets = (f'{{"prod": "{with_password(fresh_db)}", "bare": "{bare}", '
               f'"other": "{with_password(other_cluster.url("postgres"))}"}}')
    process = _start_collector(store, targets, "--metrics-port", str(port))

    def ready(found: dict) -> bool:
        return (value(found, "pgpulse_health_check_status", target="prod", server=server, check="Replication lag")
                is not None and value(found, "pg_stat_database_xact_commit", target="bare", server=server,
                                      datname=bare.rsplit("/", 1)[1]) is not None
                and value(found, "pg_up", target="other", server=other_server) == 1)

    try:
        text = _scrape_when(port, ready)
        listening = _listening_ports(process.pid)
        other_cluster.stop(mode="immediate")
        stopped = _scrape_when(port, lambda found: value(found, "pg_up", target="other", server=other_server) == 0)
    finally:
        process.terminate()
        _, stderr = process.communicate(timeout=30)
        drop_database(pg_admin_url, bare)
    found = samples(text)
    assert value(found, "pg_up", target="prod", server=server) == 1
    assert value(found, "pg_stat_database_xact_commit", target="prod", server=server, datname=datname) > 0
    # its statements cannot be read, its other figures are
    assert value(found, "pg_up", target="bare", server=server) == 1
    # the stopped server is down within an interval (1 s here); the others stay up
    assert value(samples(stopped), "pg_up", target="prod", server=server) == 1
    assert value(samples(stopped), "pg_up", target="bare", server=server) == 1
    assert SECRET not in stopped
    assert 'target bare: a relation the query needs does not exist — relation "pg_stat_statements_info"' in stderr
    assert listening == {port}  # bound to 127.0.0.1 only (IPv4 loopback)
    assert f"serving Prometheus metrics on http://127.0.0.1:{port}/metrics" in stderr
    assert SECRET not in text + stderr and process.returncode == 0, stderr


def test_no_metrics_listener_unless_a_port_is_given(fresh_db, pg_admin_url):
    assert load_settings({"DATABASE_URL": fresh_db}, Path("/nonexistent.toml")).metrics_port is None
    store = new_store(pg_admin_url)
    process = _start_collector(store, f'{{"prod": "{fresh_db}"}}')
    try:
        deadline = time.monotonic() + 60
        while "target prod" not in (line := process.stderr.readline()) and time.monotonic() < deadline:
            pass  # until it logs "target prod (...): collecting"
        assert "collecting" in line
        assert _listening_ports(process.pid) == set()
    finally:
        process.terminate()
        process.communicate(timeout=30)


def test_metrics_port_errors_are_one_line(fresh_db, pg_admin_url):
    store = new_store(pg_admin_url)
    once = run_cli("collect", "--once", "--metrics-port", "9999", "--database-url", fresh_db, "--history-url", store)
    assert once.returncode == 2 and "leave out --once" in once.stderr
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        busy = run_cli("collect", "--metrics-port", str(port), "--database-url", fresh_db, "--history-url", store)
    assert busy.returncode == 2 and f"cannot serve /metrics on 127.0.0.1:{port}" in busy.stderr
    assert "Traceback" not in busy.stderr


def test_metrics_settings(tmp_path):
    settings = load_settings({"DATABASE_URL": "postgresql://h/a", "PGPULSE_METRICS_PORT": "9187",
                              "PGPULSE_METRICS_HOST": "0.0.0.0"}, tmp_path / "none.toml")
    assert (settings.metrics_port, settings.metrics_host) == (9187, "0.0.0.0")
    secrets = tmp_path / "secrets.toml"
    secrets.write_text('database_url = "postgresql://h/a"\n[pgpulse]\nmetrics_port = 9300\n')
    assert (load_settings({}, secrets).metrics_port, load_settings({}, secrets).metrics_host) == (9300, "127.0.0.1")
    with pytest.raises(ConfigError, match="metrics_port must be a port number from 1 to 65535, not 70000"):
        load_settings({"DATABASE_URL": "postgresql://h/a", "PGPULSE_METRICS_PORT": "70000"}, tmp_path / "none.toml")
    with pytest.raises(ConfigError, match="metrics_port must be a whole number"):
        load_settings({"DATABASE_URL": "postgresql://h/a", "PGPULSE_METRICS_PORT": "ninety"}, tmp_path / "none.toml")
