"""Setting changes and Redis over time, kept by the real collector from real servers: a setting changed between two
collections is the only row of the timeline, a change waiting for a restart says so, Redis hits and misses over a
range are INFO's deltas, and a Redis down between collections is a gap that disturbs nothing else."""
from __future__ import annotations

import asyncio
import logging
import uuid
from datetime import UTC, datetime, timedelta

import psycopg
import pytest
import redis

from collector import Collector, TargetConfig
from demo.postgres import DEMO_SETTINGS
from demo.redis_server import RedisServer
from queries import catalogue
from queries.connection import make_engine
from queries.history.deltas import Snapshot, next_batch
from queries.history.redis_history import redis_series
from queries.history.settings_history import setting_changes
from tests.conftest import create_database, poll, start_cluster
from tests.history_support import FAST_PACES, collect_once, new_store, rows

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


@pytest.fixture(scope="module")
def own_cluster(pg_version, tmp_path_factory):
    """A cluster of the session server's version for these tests alone: they change its settings and restart it."""
    version = str(pg_version // 10000)
    cluster = start_cluster(version, tmp_path_factory.mktemp(f"settings{version}"), settings=dict(DEMO_SETTINGS))
    yield cluster
    cluster.stop(mode="immediate")


@pytest.fixture
def store(own_cluster) -> str:
    return new_store(own_cluster.url())


@pytest.fixture
def target(own_cluster) -> str:
    return create_database(own_cluster.url(), f"app_{uuid.uuid4().hex[:8]}")


@pytest.fixture
def own_redis(tmp_path):
    server = RedisServer(tmp_path / "redis").start()
    yield server
    server.stop()


def alter_system(url: str, *statements: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            conn.execute(statement)
        conn.execute("SELECT pg_reload_conf()")
        conn.execute("SELECT pg_sleep(0.3)")  # the postmaster and then every backend read the file


def the_range(store: str, target: str, function, **options):
    engine = make_engine(store)
    try:
        now = datetime.now(UTC)
        return function(engine, target, now - timedelta(hours=1), now + timedelta(minutes=1), **options)
    finally:
        engine.dispose()


def test_a_changed_setting_is_the_only_change_with_its_old_and_new_value(own_cluster, store, target):
    url = target
    try:
        assert collect_once(store, ("app", url))  # the base: every setting kept once, no change
        assert collect_once(store, ("app", url))
        assert the_range(store, "app", setting_changes).empty
        kept = rows(store, "SELECT count(*) FROM pgpulse.value_state WHERE metric = 'settings'")[0][0]
        assert kept > 200  # the full set, once
        alter_system(url, "ALTER SYSTEM SET work_mem = '8MB'")
        assert collect_once(store, ("app", url))
        changes = the_range(store, "app", setting_changes)
        assert changes[["name", "old_value", "new_value", "pending_restart"]].values.tolist() == [
            ["work_mem", "4MB", "8MB", False]]
        assert changes["changed_after"].iloc[0] < changes["changed_at"].iloc[0]
        assert collect_once(store, ("app", url))  # unchanged since: nothing more
        assert len(the_range(store, "app", setting_changes)) == 1
    finally:
        alter_system(url, "ALTER SYSTEM RESET work_mem")


def test_a_change_needing_a_restart_says_so_and_its_value_comes_with_the_restart(own_cluster, store, target):
    url = target
    try:
        assert collect_once(store, ("app", url))
        alter_system(url, "ALTER SYSTEM SET max_connections = 150")
        assert collect_once(store, ("app", url))
        own_cluster.stop(mode="fast")
        own_cluster.start()
        assert collect_once(store, ("app", url))
    finally:
        alter_system(url, "ALTER SYSTEM RESET max_connections")
    changes = the_range(store, "app", setting_changes)
    mine = changes[changes["name"] == "max_connections"]
    assert mine[["old_value", "new_value", "pending_restart"]].values.tolist() == [
        ["120", "120", True],  # reloaded: waiting for a restart
        ["120", "150", False]]  # restarted: in effect
    # the restart also changed what the server derives from max_connections (shared memory size, semaphores on 17+)
    derived = changes[changes["name"] != "max_connections"]
    assert (derived["changed_at"] == mine["changed_at"].iloc[1]).all()
    with psycopg.connect(url) as conn:
        contexts = {context for (context,) in conn.execute(
            "SELECT context FROM pg_settings WHERE name = ANY(%s)", (derived["name"].tolist(),))}
    assert contexts <= {"internal"}


def lookups(url: str, hits: int, misses: int) -> None:
    client = redis.Redis.from_url(url)
    client.set("known", "1")
    for _ in range(hits):
        client.get("known")
    for number in range(misses):
        client.get(f"missing:{number}")
    client.close()


def info(url: str) -> dict:
    client = redis.Redis.from_url(url)
    try:
        return client.info()
    finally:
        client.close()


def test_redis_hits_and_misses_over_the_range_are_info_s_deltas(store, target, own_redis):
    target = ("app", target, own_redis.url)
    assert collect_once(store, target)  # the base
    before = info(own_redis.url)
    lookups(own_redis.url, 7, 4)
    after = info(own_redis.url)
    assert collect_once(store, target)
    lookups(own_redis.url, 5, 0)
    assert collect_once(store, target)
    series = the_range(store, "app", redis_series)
    assert int(series["keyspace_hits"].sum()) == after["keyspace_hits"] - before["keyspace_hits"] + 5 == 12
    assert int(series["keyspace_misses"].sum()) == after["keyspace_misses"] - before["keyspace_misses"] == 4
    assert series["hit_ratio"].iloc[-1] == pytest.approx(12 / 16)
    assert (series["maxmemory_bytes"] == 64 * 1024 * 1024).all() and (series["used_memory_bytes"] > 0).all()
    assert (series["connected_clients"] >= 1).all() and (series["ops_per_s"] > 0).all()
    stored = rows(store, "SELECT keyspace_hits, keyspace_misses FROM pgpulse.redis_sample ORDER BY sampled_at")
    assert stored == [(7, 4), (5, 0)]


def test_redis_down_between_collections_is_a_gap_and_postgres_goes_on(store, target, own_redis, caplog):
    targets = [TargetConfig("app", target, own_redis.url)]

    async def scenario() -> list[bool]:
        collector = Collector(targets, store)
        try:
            results = [await collector.collect_once()]  # the base
            await asyncio.to_thread(lookups, own_redis.url, 3, 1)
            results.append(await collector.collect_once())
            await asyncio.to_thread(own_redis.stop)
            results += [await collector.collect_once(), await collector.collect_once()]
            await asyncio.to_thread(own_redis.start)  # a new server: its counters start again
            await asyncio.to_thread(lookups, own_redis.url, 2, 0)
            results.append(await collector.collect_once())
            return results
        finally:
            await collector.close()

    with caplog.at_level(logging.INFO, logger="pgpulse.collector"):
        results = asyncio.run(scenario())
    assert results == [True] * 5  # PostgreSQL collected every time
    collections = [at for (at,) in rows(store, "SELECT sampled_at FROM pgpulse.statement_collection ORDER BY 1")]
    samples = rows(store, "SELECT sampled_at, keyspace_hits, keyspace_misses FROM pgpulse.redis_sample ORDER BY 1")
    assert len(collections) == 4
    # no row while Redis was down (never zeros); after its restart its whole counters are the delta, never negative
    assert [(hits, misses) for _, hits, misses in samples] == [(3, 1), (2, 0)]
    assert samples[0][0] < collections[1] and samples[1][0] > collections[2]
    messages = [r.getMessage() for r in caplog.records if "Redis" in r.getMessage()]
    assert len([m for m in messages if "reachable again" not in m]) == 1 and "unreachable" in messages[0]
    assert messages[-1] == "target app's Redis: reachable again"


def test_the_running_collector_reads_redis_at_its_own_pace(store, target, own_redis):
    collector = Collector([TargetConfig("app", target, own_redis.url)], store,
                          paces={**FAST_PACES, "history_redis_seconds": 1})

    def stored_hits() -> int:
        return rows(store, "SELECT coalesce(sum(keyspace_hits), 0) FROM pgpulse.redis_sample")[0][0]

    def based() -> bool:  # the collector's first Redis reading is stored (the store migrated first)
        try:
            return bool(rows(store, "SELECT count(*) FROM pgpulse.collector_state WHERE metric = 'redis_counters'")[0][0])
        except psycopg.errors.UndefinedTable:
            return False

    async def scenario() -> int:
        stop = asyncio.Event()
        running = asyncio.create_task(collector.run(stop))
        try:
            await asyncio.to_thread(poll, based, bool, 30)
            await asyncio.to_thread(lookups, own_redis.url, 4, 0)
            return await asyncio.to_thread(poll, stored_hits, lambda hits: hits >= 4, 30)
        finally:
            stop.set()
            await running

    assert asyncio.run(scenario()) == 4


def test_settings_kept_as_changes_store_the_base_once_then_each_change_appearance_and_departure():
    settings = catalogue.metric("settings")
    at = [datetime(2026, 1, 1, 12, minute, tzinfo=UTC) for minute in range(4)]
    first = [{"name": "jit", "value": "on", "pending_restart": False},
             {"name": "work_mem", "value": "4MB", "pending_restart": False}]
    base, state = next_batch(settings, None, Snapshot("settings", at[0], first))
    assert base.rows == [] and [change["entry"] for change in base.changed] == ["jit", "work_mem"]
    same, state = next_batch(settings, state, Snapshot("settings", at[1], first))
    assert same.rows == [] and same.changed == [] and same.gone == []
    later = [{"name": "work_mem", "value": "4MB", "pending_restart": True},
             {"name": "pg_stat_statements.max", "value": "5000", "pending_restart": False}]
    batch, state = next_batch(settings, state, Snapshot("settings", at[2], later))
    assert [(row["name"], row["previous_value"], row["value"], row["pending_restart"]) for row in batch.rows] == [
        ("work_mem", "4MB", "4MB", True), ("pg_stat_statements.max", None, "5000", False), ("jit", "on", None, None)]
    assert {row["previous_sampled_at"] for row in batch.rows} == {at[1]} and batch.gone == ["jit"]
    assert state.entries["work_mem"] == (("4MB", "true"), None)  # as value_state keeps it: text
