"""The Redis cache shared by dashboard processes: Arrow / JSON only, namespaced, TTL, and a
fallback to the in-process cache when Redis is away."""
import pandas as pd
import pytest
import redis

from dashboard.data import Reading, SharedCache
from demo.postgres import free_port
from queries.overview import ServerSummary
from queries.shared_cache import PREFIX, NotCacheable, cache_key, decode, encode


def summary() -> ServerSummary:
    return ServerSummary("18.1", 180001, 12.5, "db", 1024, 3, 100, 3, 990, 10, 0.99, 77, 1000.0)


def test_frames_round_trip_through_arrow_with_lists_and_timestamps():
    frame = pd.DataFrame({"pid": [1, 2], "blocked_by": [[3], []], "query": ["a", None],
                          "started": pd.to_datetime(["2026-01-01T00:00:00Z", "2026-01-02T00:00:00Z"]),
                          "ratio": [0.5, float("nan")]})
    raw = encode(frame)
    assert raw[:1] == b"A"
    back = decode(raw)
    assert back["pid"].tolist() == [1, 2] and [list(v) for v in back["blocked_by"]] == [[3], []]
    assert back["started"].equals(frame["started"])
    assert back["query"].iloc[0] == "a" and pd.isna(back["query"].iloc[1])


def test_summaries_round_trip_as_json_and_other_types_are_refused():
    raw = encode(summary())
    assert raw.startswith(b'J{"type": "ServerSummary"')
    assert decode(raw) == summary()
    with pytest.raises(NotCacheable):
        encode(object())
    with pytest.raises(KeyError):  # JSON naming any other type builds nothing
        decode(b'J{"type": "Popen", "fields": {"args": ["rm", "-rf", "/"]}}')


def test_a_pickle_payload_is_never_loaded():
    import pickle

    with pytest.raises(ValueError):  # not JSON: rejected, never unpickled
        decode(b"J" + pickle.dumps(summary()))


def test_keys_are_namespaced_and_hide_the_url():
    key = cache_key("pg", "queries.overview.server_summary", "postgresql://u:secret@h/db", 1, ())
    assert key.startswith(PREFIX) and "secret" not in key


def test_second_process_reads_what_the_first_computed_and_when_it_was_read(redis_url):
    first, second = SharedCache(redis_url), SharedCache(redis_url)
    calls = []

    def compute():
        calls.append(1)
        return Reading(summary(), 1_700_000_123.25)

    key = ("pg", "test_shared", "url", 42, ())
    assert first.through(key, compute, 5) == Reading(summary(), 1_700_000_123.25)
    # the peer's value keeps the time the first process read it: "Read N s ago" stays true across processes
    assert second.through(key, compute, 5) == Reading(summary(), 1_700_000_123.25)
    assert len(calls) == 1 and second.hits == 1
    ttl = redis.Redis.from_url(redis_url).ttl(cache_key(*key))
    assert 0 < ttl <= 5


def test_redis_down_falls_back_to_computing():
    cache = SharedCache(f"redis://127.0.0.1:{free_port()}/0")
    assert cache.through(("k",), lambda: Reading(7, 1.0), 5).value == 7
    assert cache.down_until > 0 and cache.misses == 1
    assert cache.through(("k",), lambda: Reading(8, 2.0), 5).value == 8  # no retry during the back-off: straight to compute


def test_concurrent_misses_compute_once(redis_url):
    import threading

    caches = [SharedCache(redis_url) for _ in range(6)]  # six processes' worth of callers
    calls = []

    def compute():
        calls.append(1)
        import time

        time.sleep(0.3)  # a query that takes a while: the others must wait for it, not repeat it
        return Reading(42, 1.0)

    results = []
    threads = [threading.Thread(target=lambda cache=cache: results.append(cache.through(("herd",), compute, 5).value))
               for cache in caches]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert results == [42] * 6 and len(calls) == 1


def test_a_peer_slower_than_the_refresh_interval_is_waited_for(redis_url):
    """On a loaded machine a 1 s refresh can take longer than 1 s: the other processes still wait for
    the one computing instead of sending the query again."""
    import threading
    import time

    calls = []

    def slow():
        calls.append(1)
        time.sleep(1.5)
        return Reading(7, 1.0)

    results = []
    threads = [threading.Thread(target=lambda: results.append(SharedCache(redis_url).through(("slow",), slow, 1).value))
               for _ in range(3)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)  # the first one takes the lock
    for thread in threads:
        thread.join()
    assert results == [7, 7, 7] and len(calls) == 1


def test_a_failing_peer_hands_over_at_once(redis_url):
    import threading
    import time

    def failing():
        time.sleep(0.3)
        raise RuntimeError("server went away")

    outcome = {}

    def first():
        try:
            SharedCache(redis_url).through(("handover",), failing, 30)
        except RuntimeError as exc:
            outcome["first"] = str(exc)

    thread = threading.Thread(target=first)
    thread.start()
    time.sleep(0.1)  # the failing caller holds the lock
    started = time.monotonic()
    assert SharedCache(redis_url).through(("handover",), lambda: Reading("second", 1.0), 30).value == "second"
    thread.join()
    assert outcome == {"first": "server went away"}
    assert time.monotonic() - started < 2  # not the lock's full 5 s


def test_an_activity_snapshot_round_trips_as_json_and_arrow_and_builds_nothing_else(engine):
    import json

    from queries.activity import ActivitySnapshot, activity_snapshot

    snap = activity_snapshot(engine)
    snap = ActivitySnapshot(**{**snap.__dict__, "maintenance_progress": None,  # a panel whose read failed
                               "unavailable": {"maintenance_progress": "a lock could not be taken within lock_timeout"}})
    raw = encode(snap)
    assert raw[:1] == b"S" and b"pickle" not in raw
    back = decode(raw)
    assert isinstance(back, ActivitySnapshot) and back.usage == snap.usage
    assert (back.can_read_all_stats, back.role_name, back.unavailable) == (True, "postgres", snap.unavailable)
    assert back.maintenance_progress is None
    for name in ("connections", "blocking_tree", "long_running_queries", "idle_in_transaction", "wait_events", "activity"):
        pd.testing.assert_frame_equal(getattr(back, name), getattr(snap, name), check_dtype=False)
        assert list(getattr(back, name).columns) == list(getattr(snap, name).columns)
    assert back.activity["pid"].tolist() == snap.activity["pid"].tolist() and len(back.activity) >= 1

    # the header names no type: one naming another, or with extra fields, builds nothing
    length = int.from_bytes(raw[1:5], "big")
    header = json.loads(raw[5:5 + length])
    forged = json.dumps({**header, "usage": {**header["usage"], "__class__": "Popen"}}).encode()
    with pytest.raises(TypeError):
        decode(b"S" + len(forged).to_bytes(4, "big") + forged + raw[5 + length:])


def own_calls(url: str, fragment: str) -> int:
    import psycopg

    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s AND dbid = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())",
                           (f"%/* pgpulse */%{fragment}%",)).fetchone()
    return int(row[0])


def test_health_checks_and_redis_figures_are_shared_between_processes(fresh_db, redis_url, monkeypatch, tmp_path):
    """A second process (its in-process cache empty, the same shared Redis) reads the health checks and
    the Redis figures the first one computed, instead of asking the servers again."""
    import streamlit as st

    from dashboard import data
    from dashboard.config import Target
    from dashboard.sidebar import ViewContext
    from queries.redis_stats import keyspace

    monkeypatch.setenv("PGPULSE_CACHE_REDIS_URL", redis_url)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    context = ViewContext(Target("default", fresh_db, redis_url), 3600, False, 3600, 3600)
    try:
        first = data.health_reading(context, "catalog").value
        first_keyspace = data.load(keyspace, context)
        counted = own_calls(fresh_db, "unused_count")
        assert counted == 1
        st.cache_data.clear()  # the second process: nothing in its own cache
        assert data.health_reading(context, "catalog").value.equals(first)
        assert data.load(keyspace, context).equals(first_keyspace)
        assert own_calls(fresh_db, "unused_count") == counted
        assert data.shared_cache().hits >= 2
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
