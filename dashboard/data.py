"""Cached access to the data layer, shared by every viewer of this process.

Results are keyed by the refresh interval's time bucket, so however many people watch, the
monitored database sees one set of monitoring queries per interval.
"""
from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

import sqlalchemy as sa
import streamlit as st

from dashboard.config import ServerEntry, Settings, Target, load_settings
from dashboard.sidebar import ViewContext
from queries import catalogue
from queries.connection import make_engine, ping
from queries.discovery import listed_targets
from queries.errors import PgPulseError
from queries.health import health_checks


class RedisNotConfigured(PgPulseError):
    kind = "redis_not_configured"


@st.cache_resource(max_entries=32, show_spinner=False)
def engine_for(database_url: str, pool_size: int) -> sa.Engine:
    """One pooled engine per target and process; the pool bounds our connections."""
    configured = settings()
    return make_engine(database_url, pool_size=pool_size, statement_timeout_ms=configured.statement_timeout_ms,
                       lock_timeout_ms=configured.lock_timeout_ms)


@dataclass(frozen=True)
class Reading:
    """A result and when it was read from the server (epoch seconds): kept together in both cache tiers, so
    a value a peer process read minutes ago says so."""

    value: Any
    read_at: float


@st.cache_data(ttl=3600, max_entries=768, show_spinner=False)
def _cached_reading(metric_name: str, url: str, pool_size: int, bucket: tuple[int, int],
                    kwargs_items: tuple[tuple[str, Any], ...], every_s: int = 10) -> Reading:
    declared = catalogue.metric(metric_name)

    def compute() -> Reading:
        source = redis_for(url) if declared.source == "redis" else engine_for(url, pool_size)
        return Reading(declared.read(source, **dict(kwargs_items)), time.time())

    return shared_cache().through((declared.source, metric_name, url, bucket, kwargs_items), compute, every_s)


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

    def through(self, key_parts: tuple, compute: Callable[[], Reading], ttl_seconds: int) -> Reading:
        from queries.shared_cache import NotCacheable, cache_key, put_cached, release_compute_lock

        client, key = self._client(), cache_key(*key_parts)
        if client is not None:
            try:
                hit, value, read_at = self._get_or_wait(client, key)
                if hit:
                    self.hits += 1
                    return Reading(value, read_at)
            except Exception:  # noqa: BLE001 - the shared cache is an optimisation, never a failure
                self.down_until = time.monotonic() + self.RETRY_AFTER_S
                client = None
        self.misses += 1
        try:
            result = compute()
        except BaseException:
            self._quietly(client, lambda: release_compute_lock(client, key))  # a waiting peer tries at once
            raise
        try:
            if client is not None:
                put_cached(client, key, result.value, ttl_seconds, read_at=result.read_at)
        except NotCacheable:
            self._quietly(client, lambda: release_compute_lock(client, key))
        except Exception:  # noqa: BLE001
            self.down_until = time.monotonic() + self.RETRY_AFTER_S
        return result

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

    def _get_or_wait(self, client, key: str) -> tuple[bool, Any, float]:
        """A hit, or (False, None) when this caller should compute: the first to miss takes a lock and
        computes; the others (sessions and processes) wait for its result instead of sending the same
        query at the same moment. A peer that fails releases the lock and the next waiter takes it; one
        that dies leaves it to expire after WAIT_FOR_PEER_S."""
        from queries.shared_cache import get_cached, take_compute_lock

        found = get_cached(client, key)
        if found[0] or take_compute_lock(client, key, self.WAIT_FOR_PEER_S):
            return found
        deadline = time.monotonic() + self.WAIT_FOR_PEER_S
        while time.monotonic() < deadline:
            time.sleep(0.05)
            found = get_cached(client, key)
            if found[0]:
                return found
            if take_compute_lock(client, key, self.WAIT_FOR_PEER_S):  # the peer released it without a result
                return found
        return found  # the peer is slow or gone: compute here


@st.cache_resource(show_spinner=False)
def shared_cache() -> SharedCache:
    return SharedCache(settings().cache_redis_url)


@st.cache_resource(max_entries=32, show_spinner=False)
def redis_for(redis_url: str):
    """One Redis client (with its own small pool) per URL and process."""
    from queries.redis_stats import connect

    return connect(redis_url)


def reading(read: Callable, context: ViewContext, **kwargs: Any) -> Reading:
    """queries.<module>.<read>(engine or Redis client, **kwargs) for the context's target, cached at the pace the
    catalogue declares for it, with the time it was read."""
    declared = catalogue.metric_of(read)
    url = _source_url(declared, context.target)
    every_s = context.every_s(declared.pace)
    return _cached_reading(declared.name, url, settings().pool_size, _bucket(url, every_s), tuple(sorted(kwargs.items())),
                           every_s)


def load(read: Callable, context: ViewContext, **kwargs: Any) -> Any:
    """The value of reading(): what a panel shows."""
    return reading(read, context, **kwargs).value


def read_seconds_ago(read: Callable, context: ViewContext, **kwargs: Any) -> float:
    """How long ago the value `load` returns for the same arguments was read from the server (by any process
    sharing the cache)."""
    return max(0.0, time.time() - reading(read, context, **kwargs).read_at)


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _reachable(database_url: str, pool_size: int, bucket: tuple[int, int]) -> int:
    return ping(engine_for(database_url, pool_size))  # an error is never cached: the next run asks again


def reachable(database_url: str, refresh_seconds: int) -> int:
    """The server's version number if it answers now (one round trip per refresh interval and process), else the
    UnreachableError (or a subclass) that says why."""
    return _reachable(database_url, settings().pool_size, _bucket(database_url, refresh_seconds))


def _source_url(declared: catalogue.Metric, target: Target) -> str:
    if declared.source != "redis":
        return target.database_url
    if not target.redis_url:
        raise RedisNotConfigured(f"no Redis is configured for target {target.name}: set REDIS_URL or redis_url")
    return target.redis_url


@st.cache_data(ttl=3600, max_entries=64, show_spinner=False)
def _cached_health(database_url: str, redis_url: str | None, pool_size: int, bucket: tuple[int, int],
                   groups: tuple[str, ...], every_s: int) -> Reading:
    def compute() -> Reading:
        redis_client = redis_for(redis_url) if redis_url else None
        return Reading(health_checks(engine_for(database_url, pool_size), redis_client, groups=groups), time.time())

    return shared_cache().through(("health", database_url, redis_url, bucket, groups), compute, every_s)


def health_reading(context: ViewContext, group: str, every_s: int | None = None) -> Reading:
    """queries.health.health_checks of one group ('live' or 'catalog') for the target and its Redis, cached at
    the group's pace (or every_s)."""
    every_s = every_s or context.every_s("live" if group == "live" else "stats")
    target = context.target
    return _cached_health(target.database_url, target.redis_url, settings().pool_size,
                          _bucket(target.database_url, every_s), (group,), every_s)


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
    """The configuration; server entries (`databases = "*"`) have their databases as targets, listed again every
    history_database_seconds so created and dropped databases come and go."""
    loaded = _settings()
    if not loaded.servers:
        return loaded
    return _with_discovered(int(time.time() // loaded.history_database_seconds))


@st.cache_resource(max_entries=2, show_spinner=False)
def _with_discovered(interval: int) -> Settings:
    loaded = _settings()
    found = [target for server in loaded.servers for target in _server_targets(server, loaded)]
    return replace(loaded, targets=(*loaded.targets, *found))


@st.cache_resource(max_entries=32, show_spinner=False)
def _discovery_engine(url: str, statement_timeout_ms: int, lock_timeout_ms: int) -> sa.Engine:
    return make_engine(url, pool_size=1, statement_timeout_ms=statement_timeout_ms, lock_timeout_ms=lock_timeout_ms)


def _server_targets(server: ServerEntry, loaded: Settings) -> list[Target]:
    """The server's chosen databases as targets; the server itself, under its name, while it cannot be listed (its
    pages then say why)."""
    try:
        engine = _discovery_engine(server.database_url, loaded.statement_timeout_ms, loaded.lock_timeout_ms)
        found = listed_targets(engine, server.name, server.database_url, include=server.include, exclude=server.exclude)
    except PgPulseError:
        return [Target(server.name, server.database_url, server.redis_url, server.tags)]
    return [Target(name, url, server.redis_url, server.tags) for name, url in found.items()]
