"""queries.redis_stats against real redis-server processes: each condition is created, then read back exactly."""
import dataclasses
import random
import time

import pytest
import redis

from demo.postgres import free_port
from demo.redis_server import RedisServer
from queries.errors import InvalidTargetError, PgPulseError
from queries.redis_stats import (
    NO_NAMESPACE,
    commandstats,
    connect,
    hit_ratio_between,
    key_namespaces,
    keyspace,
    ops_per_second_between,
    redis_info,
    redis_summary,
    slowlog,
)

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

NAMESPACE_DB = 1


def wait_until(condition, timeout_s: float = 5.0, interval_s: float = 0.05):
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(interval_s)
    raise AssertionError(f"condition not met within {timeout_s} s")


@pytest.fixture(scope="module")
def private_redis(tmp_path_factory):
    """A Redis of our own (with a unix socket) for tests that reset stats, change config or count keys."""
    data_dir = tmp_path_factory.mktemp("redis_private")
    server = RedisServer(data_dir, extra={"unixsocket": str(data_dir / "redis.sock"), "unixsocketperm": "700"}).start()
    yield server
    server.stop()


@pytest.fixture
def client(redis_url):
    client = connect(redis_url)
    yield client
    leftovers = list(client.scan_iter(match="pgpulse:test:*", count=500))
    if leftovers:
        client.delete(*leftovers)
    client.close()


@pytest.fixture
def namespaced_db(private_redis):
    """Database 1 of the private server: 300 app:user:N keys with a 100-200 s TTL, 100 app:session:N without."""
    client = connect(private_redis.url.rsplit("/", 1)[0] + f"/{NAMESPACE_DB}")
    client.flushdb()
    rng = random.Random(7)
    pipe = client.pipeline(transaction=False)
    for n in range(300):
        pipe.set(f"app:user:{n}", "x" * 50, ex=rng.randint(100, 200))
    for n in range(100):
        pipe.set(f"app:session:{n}", "y" * 500)
    pipe.execute()
    yield client
    client.flushdb()
    client.close()


def test_connect_names_the_client_and_summary_reads_memory_settings(client):
    summary = redis_summary(client)
    assert client.client_getname() == "pgpulse"
    assert summary.redis_version == client.info("server")["redis_version"]
    assert summary.maxmemory_bytes == 64 * 1024 * 1024  # RedisServer's default maxmemory 64mb
    assert summary.maxmemory_policy == "allkeys-lru"
    assert summary.memory_usage_ratio == summary.used_memory_bytes / summary.maxmemory_bytes
    assert summary.fragmentation_bytes == summary.used_memory_rss_bytes - summary.used_memory_bytes
    assert summary.fragmentation_is_meaningful is False  # a test instance is far below 100 MB
    assert redis_summary(client, min_fragmentation_bytes=0).fragmentation_is_meaningful is True
    assert summary.connected_clients >= 1
    assert abs(summary.sampled_at_epoch - time.time()) < 5


def test_hits_and_misses_give_exact_deltas_and_interval_hit_ratio(client):
    client.set("pgpulse:test:hit", "1")
    before = redis_summary(client)
    for _ in range(3):
        assert client.get("pgpulse:test:hit") == b"1"
    for _ in range(2):
        assert client.get("pgpulse:test:missing") is None
    after = redis_summary(client)
    assert after.keyspace_hits - before.keyspace_hits == 3
    assert after.keyspace_misses - before.keyspace_misses == 2
    assert hit_ratio_between(before, after) == pytest.approx(0.6)
    assert after.hit_ratio == after.keyspace_hits / (after.keyspace_hits + after.keyspace_misses)
    assert after.total_commands_processed - before.total_commands_processed >= 6  # 5 GETs + INFO
    assert ops_per_second_between(before, after) > 0


def test_interval_figures_are_none_without_a_usable_previous_sample(client):
    current = redis_summary(client)
    assert hit_ratio_between(None, current) is None
    assert ops_per_second_between(None, current) is None
    assert hit_ratio_between(current, current) is None  # no lookups in between
    assert ops_per_second_between(current, current) is None
    restarted = dataclasses.replace(current, uptime_seconds=0, keyspace_hits=current.keyspace_hits + 10,
                                    sampled_at_epoch=current.sampled_at_epoch + 1)
    assert hit_ratio_between(dataclasses.replace(current, uptime_seconds=100), restarted) is None


def test_config_resetstat_between_samples_gives_no_hit_ratio(private_redis):
    client = connect(private_redis.url)
    try:
        client.set("k", "v")
        for _ in range(5):
            client.get("k")
        before = redis_summary(client)
        client.config_resetstat()
        client.get("k")
        after = redis_summary(client)
        assert after.keyspace_hits == 1 < before.keyspace_hits
        assert hit_ratio_between(before, after) is None
        assert ops_per_second_between(before, after) is None
    finally:
        client.delete("k")
        client.close()


def test_evictions_are_counted_when_data_exceeds_maxmemory(tmp_path):
    server = RedisServer(tmp_path / "evicting", maxmemory="2mb", extra={"maxmemory-policy": "allkeys-lru"}).start()
    try:
        client = connect(server.url)
        assert redis_summary(client).evicted_keys == 0
        for batch in range(8):  # 400 x 10 kB = 4 MB into 2 MB
            pipe = client.pipeline(transaction=False)
            for n in range(50):
                pipe.set(f"big:{batch}:{n}", b"v" * 10_000)
            pipe.execute()
        summary = redis_summary(client)
        assert summary.evicted_keys > 0
        assert client.dbsize() == 400 - summary.evicted_keys
        assert summary.maxmemory_bytes == 2 * 1024 * 1024
        assert summary.maxmemory_policy == "allkeys-lru"
        assert 0 < summary.memory_usage_ratio < 1.1
        client.close()
    finally:
        server.stop()


def test_expired_keys_are_counted(client):
    before = redis_summary(client).expired_keys
    client.set("pgpulse:test:short-lived", "x", px=50)
    # Poll INFO only (never the key itself): the server's active expiry cycle must remove it.
    wait_until(lambda: redis_summary(client).expired_keys > before)
    assert client.exists("pgpulse:test:short-lived") == 0


def test_slowlog_shows_the_command_its_client_and_time(private_redis):
    client = connect(private_redis.url)
    try:
        client.config_set("slowlog-log-slower-than", 0)
        client.slowlog_reset()
        client.set("pgpulse-slowkey", "x")
        client.mset({f"long-argument-{n}": "v" * 100 for n in range(20)})
        frame = slowlog(client, limit=10)
    finally:
        client.config_set("slowlog-log-slower-than", 10000)
        client.close()
    assert list(frame.columns) == ["id", "started_at", "duration_us", "command", "client_addr", "client_name"]
    entry = frame[frame["command"] == "SET pgpulse-slowkey x"].iloc[0]
    assert entry["client_name"] == "pgpulse"
    assert entry["client_addr"].startswith("127.0.0.1:")
    assert entry["duration_us"] >= 0
    assert abs(entry["started_at"].timestamp() - time.time()) < 60
    assert str(entry["started_at"].tz) == "UTC"
    long_entry = frame[frame["command"].str.startswith("MSET long-argument-0 ")].iloc[0]
    assert len(long_entry["command"]) == 200 and long_entry["command"].endswith("…")
    assert frame["id"].is_monotonic_decreasing  # newest first
    with connect(private_redis.url) as other:
        assert len(slowlog(other, limit=1)) == 1


def test_commandstats_counts_set_calls_exactly(client):
    def set_calls() -> int:
        frame = commandstats(client)
        return int(frame.loc[frame["command"] == "set", "calls"].sum())

    before = set_calls()
    for n in range(5):
        client.set(f"pgpulse:test:cs:{n}", n)
    frame = commandstats(client)
    assert set_calls() == before + 5
    assert list(frame.columns) == ["command", "calls", "usec_total", "usec_per_call", "rejected_calls", "failed_calls"]
    assert frame["usec_total"].is_monotonic_decreasing
    row = frame[frame["command"] == "set"].iloc[0]
    assert row["usec_per_call"] == pytest.approx(row["usec_total"] / row["calls"], abs=0.01)
    assert len(commandstats(client, limit=2)) == 2


def test_key_namespaces_groups_keys_by_prefix_with_ttls(namespaced_db):
    frame = key_namespaces(namespaced_db)
    assert list(frame["namespace"]) == ["app:session", "app:user"]  # 100 x 500 B outweigh 300 x 50 B
    session, user = frame.iloc[0], frame.iloc[1]
    assert (user["sampled_keys"], user["estimated_keys"], user["keys_with_ttl"], user["keys_without_ttl"]) == (300, 300, 300, 0)
    assert (session["sampled_keys"], session["estimated_keys"], session["keys_with_ttl"], session["keys_without_ttl"]) == (
        100, 100, 0, 100)
    assert 99 < user["min_ttl_seconds"] <= user["median_ttl_seconds"] <= user["max_ttl_seconds"] <= 200
    assert session[["min_ttl_seconds", "median_ttl_seconds", "max_ttl_seconds"]].isna().all()
    expected_memory = sum(namespaced_db.memory_usage(f"app:session:{n}") for n in range(100))
    assert session["memory_bytes"] == expected_memory
    assert session["avg_memory_bytes"] == pytest.approx(expected_memory / 100)


def test_bounded_scan_samples_at_most_sample_size_and_scales_up(namespaced_db):
    frame = key_namespaces(namespaced_db, sample_size=50, scan_count=20)
    assert frame["sampled_keys"].sum() == 50
    assert set(frame["namespace"]) <= {"app:user", "app:session"}
    # 400 keys in the database, 50 sampled: every namespace is scaled by 8.
    assert list(frame["estimated_keys"]) == list(frame["sampled_keys"] * 8)
    assert frame["estimated_keys"].sum() == 400


def test_key_namespaces_survive_binary_keys_and_unprefixed_keys(namespaced_db):
    namespaced_db.set(b"\xff\xfe:blob:1", b"\x00\x01")
    namespaced_db.set("plainkey", "1")
    frame = key_namespaces(namespaced_db, depth=1).set_index("namespace")
    assert frame.loc["app", "sampled_keys"] == 400
    assert frame.loc["\ufffd\ufffd", "sampled_keys"] == 1
    assert frame.loc[NO_NAMESPACE, "sampled_keys"] == 1


def test_key_namespaces_on_an_empty_database_is_empty(private_redis):
    with connect(private_redis.url.rsplit("/", 1)[0] + "/2") as client:
        frame = key_namespaces(client)
    assert frame.empty and "estimated_keys" in frame.columns


def test_keyspace_lists_each_database_with_its_counts(namespaced_db):
    frame = keyspace(namespaced_db)
    assert list(frame.columns) == ["db", "keys", "expires", "avg_ttl_ms"]
    row = frame[frame["db"] == NAMESPACE_DB].iloc[0]
    assert (row["keys"], row["expires"]) == (400, 300)
    assert 0 <= row["avg_ttl_ms"] <= 200_000


def test_redis_info_keeps_sections_names_and_raw_values(namespaced_db):
    frame = redis_info(namespaced_db)
    assert list(frame.columns) == ["section", "name", "value"]
    rows = {(section, name): value for section, name, value in frame.itertuples(index=False)}
    assert rows[("server", "redis_version")] == namespaced_db.info("server")["redis_version"]
    assert rows[("memory", "maxmemory_policy")] == "allkeys-lru"
    assert rows[("keyspace", f"db{NAMESPACE_DB}")].startswith("keys=400,expires=300,")
    assert {"server", "clients", "memory", "stats", "commandstats", "keyspace"} <= set(frame["section"])


def test_unix_socket_url(private_redis):
    with connect(f"unix://{private_redis.data_dir / 'redis.sock'}?db=0") as client:
        assert redis_summary(client).redis_version == client.info("server")["redis_version"]
        assert client.connection_pool.connection_class is redis.UnixDomainSocketConnection


def test_rediss_url_is_accepted_as_tls():
    client = connect("rediss://:secret@redis.example.com:6380/0")
    assert client.connection_pool.connection_class is redis.SSLConnection


@pytest.mark.parametrize("url", ["http://user:hunter2@localhost:6379/0", "postgresql://u:hunter2@localhost/db"])
def test_other_schemes_are_refused_without_the_password(url):
    with pytest.raises(InvalidTargetError) as error:
        connect(url)
    assert repr(url.split(":", 1)[0]) in str(error.value)
    assert "hunter2" not in str(error.value)


def test_redis_down_is_unreachable_quickly_without_the_password():
    client = connect(f"redis://:hunter2@127.0.0.1:{free_port()}/0", timeout_s=2.0)
    started = time.monotonic()
    with pytest.raises(PgPulseError) as error:
        redis_summary(client)
    assert time.monotonic() - started < 2.0
    assert error.value.kind == "unreachable"
    assert "hunter2" not in str(error.value)
    assert "Redis is unreachable" in str(error.value)


def test_wrong_password_is_auth_and_missing_acl_permission_is_privilege(private_redis):
    admin = connect(private_redis.url)
    admin.acl_setuser("pgpulse_limited", enabled=True, passwords=["+rightpass"], keys=["*"],
                      commands=["+get", "+client", "+hello", "+ping", "-info"])
    host_port = private_redis.url.removeprefix("redis://")
    try:
        with pytest.raises(PgPulseError) as wrong:
            redis_summary(connect(f"redis://pgpulse_limited:wrongpass@{host_port}"))
        assert wrong.value.kind == "auth" and "wrongpass" not in str(wrong.value)
        with pytest.raises(PgPulseError) as denied:
            redis_summary(connect(f"redis://pgpulse_limited:rightpass@{host_port}"))
        assert denied.value.kind == "privilege" and "info" in str(denied.value)
        assert "rightpass" not in str(denied.value)
    finally:
        admin.acl_deluser("pgpulse_limited")
        admin.close()
