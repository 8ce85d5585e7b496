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


class RedisNotConfigured(PgPulseError):
    kind = "redis_not_configured"


@st.cache_resource(max_entries=32, show_spinner=False)
def engine_for(database_url: str, pool_size: int) -> sa.Engine:
    """One pooled engine per target and process; the pool bounds our connections."""
    configured = settings()
    return make_engine(database_url, pool_size=pool_size, statement_timeout_ms=configured.statement_timeout_ms,
                       lock_timeout_ms=configured.lock_timeout_ms)


@st.cache_data(ttl=3600, max_entries=512, show_spinner=False)
def _cached_call(function_path: str, database_url: str, pool_size: int, bucket: int,
                 kwargs_items: tuple[tuple[str, Any], ...], refresh_seconds: int = 10) -> Any:
    def compute() -> Any:
        return _resolve(function_path)(engine_for(database_url, pool_size), **dict(kwargs_items))

    return shared_cache().through(("pg", function_path, database_url, bucket, kwargs_items), compute, refresh_seconds)


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
        from queries.shared_cache import NotCacheable, cache_key, put_cached

        client, key = self._client(), cache_key(*key_parts)
        if client is not None:
            try:
                hit, value = self._get_or_wait(client, key, ttl_seconds)
                if hit:
                    self.hits += 1
                    return value
            except Exception:  # noqa: BLE001 - the shared cache is an optimisation, never a failure
                self.down_until = time.monotonic() + self.RETRY_AFTER_S
                client = None
        self.misses += 1
        value = compute()
        if client is not None:
            try:
                put_cached(client, key, value, ttl_seconds)
            except NotCacheable:
                pass
            except Exception:  # noqa: BLE001
                self.down_until = time.monotonic() + self.RETRY_AFTER_S
        return value


    WAIT_FOR_PEER_S = 5.0

    def _get_or_wait(self, client, key: str, ttl_seconds: int) -> tuple[bool, Any]:
        """A hit, or (False, None) when this caller should compute: the first to miss takes a short
        lock and computes; the others (sessions and processes) wait for its result instead of
        sending the same query at the same moment."""
        from queries.shared_cache import get_cached, take_compute_lock

        hit, value = get_cached(client, key)
        if hit or take_compute_lock(client, key, min(ttl_seconds, self.WAIT_FOR_PEER_S)):
            return hit, value
        deadline = time.monotonic() + min(ttl_seconds, self.WAIT_FOR_PEER_S)
        while time.monotonic() < deadline:
            time.sleep(0.05)
            hit, value = get_cached(client, key)
            if hit:
                return hit, value
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
def _cached_redis_call(function_path: str, redis_url: str, bucket: int,
                       kwargs_items: tuple[tuple[str, Any], ...]) -> Any:
    return _resolve(function_path)(redis_for(redis_url), **dict(kwargs_items))


def load_redis(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> Any:
    """Call queries.redis_stats.<function>(client, **kwargs), cached for the refresh interval."""
    if not target.redis_url:
        raise RedisNotConfigured(f"no Redis is configured for target {target.name}: set REDIS_URL or redis_url")
    bucket = int(time.time() // max(refresh_seconds, 1))
    path = f"{function.__module__}.{function.__name__}"
    return _cached_redis_call(path, target.redis_url, bucket, tuple(sorted(kwargs.items())))


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_health(database_url: str, redis_url: str | None, pool_size: int, bucket: int,
                   groups: tuple[str, ...] = ("live", "catalog")):
    from queries.health import health_checks

    return health_checks(engine_for(database_url, pool_size), redis_for(redis_url) if redis_url else None,
                         groups=groups)


def load_health(target: Target, refresh_seconds: int, groups: tuple[str, ...] = ("live", "catalog")):
    """queries.health.health_checks for the target (with its Redis when configured), cached."""
    bucket = int(time.time() // max(refresh_seconds, 1))
    return _cached_health(target.database_url, target.redis_url, settings().pool_size, bucket, groups)


def _resolve(function_path: str) -> Callable:
    import importlib

    module_name, _, name = function_path.rpartition(".")
    if not module_name.startswith("queries."):
        raise ValueError(f"only queries.* functions can be loaded, not {function_path}")
    return getattr(importlib.import_module(module_name), name)


def load(function: Callable, target: Target, refresh_seconds: int, **kwargs: Any) -> Any:
    """Call queries.<module>.<function>(engine, **kwargs), cached for the refresh interval."""
    bucket = int(time.time() // max(refresh_seconds, 1))
    path = f"{function.__module__}.{function.__name__}"
    pool_size = settings().pool_size
    return _cached_call(path, target.database_url, pool_size, bucket, tuple(sorted(kwargs.items())), refresh_seconds)


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
