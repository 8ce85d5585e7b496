"""Cached access to the data layer, shared by every viewer of this process.

Results are keyed by the refresh interval's time bucket, so however many people watch, the
monitored database sees one set of monitoring queries per interval.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import sqlalchemy as sa
import streamlit as st

from dashboard.config import Settings, Target, load_settings
from queries.connection import make_engine
from queries.errors import PgPulseError

# The Queries page's default view. The Overview's top 5 are its first rows: asking with the same
# arguments makes both pages share one pg_stat_statements read per interval (~8-25 ms on 5,000 entries).
DEFAULT_STATEMENTS_VIEW = {"sort_by": "total_exec_time_ms", "user": None, "min_calls": 0, "text": None, "limit": 100,
                           "include_nested": False, "include_own": False}


class RedisNotConfigured(PgPulseError):
    kind = "redis_not_configured"


@st.cache_resource(max_entries=32, show_spinner=False)
def engine_for(database_url: str, pool_size: int) -> sa.Engine:
    """One pooled engine per target and process; the pool bounds our connections."""
    configured = settings()
    return make_engine(database_url, pool_size=pool_size, statement_timeout_ms=configured.statement_timeout_ms,
                       lock_timeout_ms=configured.lock_timeout_ms)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached_call(function_path: str, database_url: str, pool_size: int, bucket: tuple[int, int],
                 kwargs_items: tuple[tuple[str, Any], ...], refresh_seconds: int = 10) -> Any:
    def compute() -> Any:
        return _resolve(function_path)(engine_for(database_url, pool_size), **dict(kwargs_items))

    return shared_cache().through(("pg", function_path, database_url, bucket, kwargs_items), compute, refresh_seconds)


@st.cache_data(ttl=3600, max_entries=1024, show_spinner=False)
def _read_at(function_path: str, database_url: str, bucket: tuple[int, int], kwargs_items: tuple) -> float:
    """When this process first had the result for this key: asked right after the result, so the
    first caller in a bucket stamps it and every later viewer sees the same time."""
    return time.time()


class Generations:
    """Per database URL, when "Refresh now" was last pressed (epoch seconds, strictly increasing): it
    is part of every cache key, so the next read of any panel of that target goes to the server, for
    every viewer of this process (a time rather than a counter, so two processes sharing the Redis
    cache don't mistake each other's refreshes for their own)."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._counts: dict[str, int] = {}

    def of(self, url: str) -> int:
        return self._counts.get(url, 0)

    def bump(self, url: str) -> None:
        with self._lock:
            self._counts[url] = max(int(time.time()), self._counts.get(url, 0) + 1)


@st.cache_resource(show_spinner=False)
def generations() -> Generations:
    return Generations()


def refresh_now(target: Target) -> None:
    """Drop every cached result of this target (statistics and sizes included) for this process."""
    generations().bump(target.database_url)
    if target.redis_url:
        generations().bump(target.redis_url)


def _bucket(url: str, refresh_seconds: int) -> tuple[int, int]:
    """(time bucket of the interval, refresh generation of the URL): the cache key's clock."""
    return int(time.time() // max(refresh_seconds, 1)), generations().of(url)


class SharedCache:
    """Results shared across dashboard processes via Redis (PGPULSE_CACHE_REDIS_URL); with it
    unset or unreachable, each process keeps to its own in-process cache."""

    RETRY_AFTER_S = 30  # after a Redis failure, don't slow every panel by trying again at once

    def __init__(self, url: str | None):
        self.url, self.client, self.down_until = url, None, 0.0
        self.hits = self.misses = 0

    def _client(self):
        if not self.url or time.monotonic() < self.down_until:
            return None
        if self.client is None:
            from queries.redis_stats import connect

            self.client = connect(self.url, timeout_s=0.5)
        return self.client

    def through(self, key_parts: tuple, compute: Callable[[], Any], ttl_seconds: int) -> Any:
        from queries.shared_cache import NotCacheable, cache_key, put_cached, release_compute_lock

        client, key = self._client(), cache_key(*key_parts)
        if client is not None:
            try:
                hit, value = self._get_or_wait(client, key)
                if hit:
                    self.hits += 1
                    return value
            except Exception:  # noqa: BLE001 - the shared cache is an optimisation, never a failure
                self.down_until = time.monotonic() + self.RETRY_AFTER_S
                client = None
        self.misses += 1
        try:
            value = compute()
        except BaseException:
            self._quietly(client, lambda: release_compute_lock(client, key))  # a waiting peer tries at once
            raise
        try:
            if client is not None:
                put_cached(client, key, value, ttl_seconds)
        except NotCacheable:
            self._quietly(client, lambda: release_compute_lock(client, key))
        except Exception:  # noqa: BLE001
            self.down_until = time.monotonic() + self.RETRY_AFTER_S
        return value

    def _quietly(self, client, action: Callable[[], Any]) -> None:
        if client is None:
            return
        try:
            action()
        except Exception:  # noqa: BLE001
            self.down_until = time.monotonic() + self.RETRY_AFTER_S

    # How long a caller waits for a peer that is computing the same key. Not bounded by the refresh
    # interval: on a loaded machine a 2 s refresh can take longer than 2 s to compute, and a waiter that
    # gave up then would send the same query again (as many times as there are processes).
    WAIT_FOR_PEER_S = 5.0

    def _get_or_wait(self, client, key: str) -> tuple[bool, Any]:
        """A hit, or (False, None) when this caller should compute: the first to miss takes a lock and
        computes; the others (sessions and processes) wait for its result instead of sending the same
        query at the same moment. A peer that fails releases the lock and the next waiter takes it; one
        that dies leaves it to expire after WAIT_FOR_PEER_S."""
        from queries.shared_cache import get_cached, take_compute_lock

        hit, value = get_cached(client, key)
        if hit or take_compute_lock(client, key, self.WAIT_FOR_PEER_S):
            return hit, value
        deadline = time.monotonic() + self.WAIT_FOR_PEER_S
        while time.monotonic() < deadline:
            time.sleep(0.05)
            hit, value = get_cached(client, key)
            if hit:
                return hit, value
            if take_compute_lock(client, key, self.WAIT_FOR_PEER_S):  # the peer released it without a result
                return False, None
        return False, None  # the peer is slow or gone: compute here


@st.cache_resource(show_spinner=False)
def shared_cache() -> SharedCache:
    return SharedCache(settings().cache_redis_url)


@st.cache_resource(max_entries=32, show_spinner=False)
def redis_for(redis_url: str):
    """One Redis client (with its own small pool) per URL and process."""
    from queries.redis_stats import connect

    return connect(redis_url)


@st.cache_data(ttl=3600, max_entries=256, show_spinner=False)
def _cached_redis_call(function_path: str, redis_url: str, bucket: tuple[int, int],
                       kwargs_items: tuple[tuple[str, Any], ...], refresh_seconds: int = 10) -> Any:
    def compute() -> Any:
        return _resolve(function_path)(redis_for(redis_url), **dict(kwargs_items))

    return shared_cache().through(("redis", function_path, redis_url, bucket, kwargs_items), compute, refresh_seconds)


def load_redis(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> Any:
    """Call queries.redis_stats.<function>(client, **kwargs), cached for the refresh interval."""
    if not target.redis_url:
        raise RedisNotConfigured(f"no Redis is configured for target {target.name}: set REDIS_URL or redis_url")
    return _cached_redis_call(_function_path(function), target.redis_url, _bucket(target.redis_url, refresh_seconds),
                              tuple(sorted(kwargs.items())), refresh_seconds)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_health(database_url: str, redis_url: str | None, pool_size: int, bucket: tuple[int, int],
                   groups: tuple[str, ...] = ("live", "catalog"), refresh_seconds: int = 10):
    from queries.health import health_checks

    def compute():
        return health_checks(engine_for(database_url, pool_size), redis_for(redis_url) if redis_url else None,
                             groups=groups)

    return shared_cache().through(("health", database_url, redis_url, bucket, groups), compute, refresh_seconds)


def load_health(target: Target, refresh_seconds: int, groups: tuple[str, ...] = ("live", "catalog")):
    """queries.health.health_checks for the target (with its Redis when configured), cached."""
    bucket = _bucket(target.database_url, refresh_seconds)
    return _cached_health(target.database_url, target.redis_url, settings().pool_size, bucket, groups, refresh_seconds)


def _resolve(function_path: str) -> Callable:
    import importlib

    module_name, _, name = function_path.rpartition(".")
    if not module_name.startswith("queries."):
        raise ValueError(f"only queries.* functions can be loaded, not {function_path}")
    return getattr(importlib.import_module(module_name), name)


def load(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> Any:
    """Call queries.<module>.<function>(engine, **kwargs), cached for the refresh interval."""
    path, bucket, kwargs_items = _key(function, target, refresh_seconds, kwargs)
    return _cached_call(path, target.database_url, settings().pool_size, bucket, kwargs_items, refresh_seconds)


def read_seconds_ago(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> float:
    """How long ago the result `load` returns for the same arguments was read from the server
    (by this process); call it right after that `load`."""
    path, bucket, kwargs_items = _key(function, target, refresh_seconds, kwargs)
    return max(0.0, time.time() - _read_at(path, target.database_url, bucket, kwargs_items))


def _key(function: Callable, target: Target, refresh_seconds: int, kwargs: dict) -> tuple[str, tuple[int, int], tuple]:
    return _function_path(function), _bucket(target.database_url, refresh_seconds), tuple(sorted(kwargs.items()))


def _function_path(function: Callable) -> str:
    """queries.<module>.<name>: how a cached call names its function (resolved again by _resolve)."""
    return f"{function.__module__}.{function.__name__}"


class SampleHistory:
    """The last two distinct samples per key, shared by every viewer of this process, so a
    rate (transactions/s, hit ratio over the interval) shows from a viewer's first look."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._pairs: dict[str, tuple[Any, Any]] = {}

    def previous(self, key: str, current: Any) -> Any:
        """The newest sample taken before `current` (None if there is none yet)."""
        with self._lock:
            older, newer = self._pairs.get(key, (None, None))
            if newer is not None and newer.sampled_at_epoch == current.sampled_at_epoch:
                return older
            if newer is not None and newer.sampled_at_epoch > current.sampled_at_epoch:
                return None
            self._pairs[key] = (newer, current)
            return newer


@st.cache_resource(show_spinner=False)
def sample_history() -> SampleHistory:
    return SampleHistory()


@st.cache_resource(show_spinner=False)
def _settings() -> Settings:
    return load_settings()


def settings() -> Settings:
    return _settings()
