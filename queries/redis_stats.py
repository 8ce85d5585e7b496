"""Redis: memory, hit ratio, evictions, command costs, slow log and key namespaces (INFO, SLOWLOG, SCAN).

Every call is bounded: socket timeouts on the client, SCAN (never KEYS) capped by a key count
and a wall-clock budget, pipelines in fixed-size chunks. Values are read as bytes and decoded
with errors='replace', so binary keys never break a panel; nothing is ever unpickled.
"""
from __future__ import annotations

import functools
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import ParamSpec, TypeVar
from urllib.parse import urlsplit

import pandas as pd
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from queries.connection import without_passwords
from queries.errors import (
    AuthenticationError,
    InvalidTargetError,
    PgPulseError,
    PrivilegeError,
    StatementTimeoutError,
    UnreachableError,
    scrub,
)

REDIS_SCHEMES = ("redis", "rediss", "unix")
CLIENT_NAME = "pgpulse"
MAX_COMMAND_CHARS = 200
PIPELINE_CHUNK = 500
NO_NAMESPACE = "(no prefix)"

P = ParamSpec("P")
T = TypeVar("T")

# Most specific first: AuthenticationError and BusyLoadingError are ConnectionErrors too.
_ERROR_KINDS: tuple[tuple[type[Exception], type[PgPulseError], str], ...] = (
    (redis.exceptions.AuthenticationError, AuthenticationError, "Redis refused the credentials (wrong user or password)"),
    (redis.exceptions.AuthenticationWrongNumberOfArgsError, AuthenticationError,
     "Redis has no password set but one was given"),
    (redis.exceptions.AuthorizationError, PrivilegeError, "the Redis user is not authorized"),
    (redis.exceptions.NoPermissionError, PrivilegeError, "the Redis user lacks an ACL permission pgpulse needs"),
    (redis.exceptions.BusyLoadingError, UnreachableError, "Redis is still loading its dataset"),
    (redis.exceptions.TimeoutError, StatementTimeoutError, "Redis did not answer within the timeout"),
    (redis.exceptions.ConnectionError, UnreachableError, "Redis is unreachable"),
)


def _translate_redis_error(exc: redis.RedisError) -> PgPulseError:
    """A redis-py exception as a PgPulseError with a kind and plain words (scrubbed of passwords)."""
    lines = str(exc).strip().splitlines()
    detail = lines[0] if lines else type(exc).__name__
    for error_type, error_class, meaning in _ERROR_KINDS:
        if isinstance(exc, error_type):
            return error_class(f"{meaning} — {detail}")
    if isinstance(exc, redis.ResponseError) and "unknown command" in detail.lower():
        # Managed services (and rename-command) disable CONFIG, DEBUG, sometimes MEMORY or SLOWLOG.
        return PgPulseError(f"this Redis does not offer a command pgpulse needs (renamed or disabled?) — {detail}",
                            kind="unsupported_command")
    return PgPulseError(f"Redis error ({type(exc).__name__}): {detail}", kind="error")


def _translated(function: Callable[P, T]) -> Callable[P, T]:
    """Raise PgPulseError instead of redis-py exceptions, so one panel fails in plain words; frames leave with
    passwords masked (a SLOWLOG entry can hold AUTH or CONFIG SET requirepass arguments)."""
    @functools.wraps(function)
    def wrapper(*args: P.args, **kwargs: P.kwargs) -> T:
        try:
            result = function(*args, **kwargs)
        except redis.RedisError as exc:
            raise _translate_redis_error(exc) from None
        return without_passwords(result) if isinstance(result, pd.DataFrame) else result
    return wrapper


def _text(value: bytes | str | None) -> str | None:
    """Decode a reply that may be bytes (decode_responses=False) without ever failing on binary."""
    if isinstance(value, bytes):
        return value.decode("utf-8", errors="replace")
    return value


def connect(url: str, *, timeout_s: float = 2.0) -> redis.Redis:
    """A client for a redis://, rediss:// or unix:// URL; connects lazily, on its first command."""
    scheme = urlsplit(url.strip()).scheme.lower()
    if scheme not in REDIS_SCHEMES:
        raise InvalidTargetError(f"not a Redis URL: scheme {scheme!r}; expected redis://, rediss:// or unix://")
    try:
        return redis.Redis.from_url(
            url.strip(), socket_timeout=timeout_s, socket_connect_timeout=timeout_s, client_name=CLIENT_NAME,
            # One immediate retry on a dropped connection (a restarted server leaves dead pooled
            # sockets); none on timeouts, so a call never takes more than about timeout_s.
            retry=Retry(NoBackoff(), 1, supported_errors=(redis.exceptions.ConnectionError,)))
    except ValueError as exc:
        raise InvalidTargetError(f"the Redis URL could not be parsed: {scrub(str(exc), urlsplit(url).password)}") from None


@dataclass(frozen=True)
class RedisSummary:
    """One sample of INFO (server, memory, stats, clients)."""

    redis_version: str
    uptime_seconds: int
    used_memory_bytes: int
    used_memory_rss_bytes: int
    maxmemory_bytes: int  # 0: no limit
    maxmemory_policy: str
    memory_usage_ratio: float | None  # None without maxmemory
    mem_fragmentation_ratio: float
    fragmentation_bytes: int
    fragmentation_is_meaningful: bool
    keyspace_hits: int
    keyspace_misses: int
    hit_ratio: float | None  # None before the first lookup
    evicted_keys: int
    expired_keys: int
    instantaneous_ops_per_sec: int
    total_commands_processed: int
    connected_clients: int
    blocked_clients: int
    sampled_at_epoch: float


def _ratio(part: float, whole: float) -> float | None:
    return part / whole if whole else None


@_translated
def redis_summary(client: redis.Redis, *, min_fragmentation_bytes: int = 100 * 1024 * 1024) -> RedisSummary:
    """Read one RedisSummary sample from INFO."""
    info = client.info()
    used, rss, maxmemory = int(info["used_memory"]), int(info["used_memory_rss"]), int(info.get("maxmemory", 0))
    hits, misses = int(info["keyspace_hits"]), int(info["keyspace_misses"])
    # A small instance shows a "fragmentation ratio" of 5-10 just from the allocator's and the
    # process's baseline RSS; only a large absolute gap is worth acting on (Redis's own active
    # defrag ignores fragmentation under 100 MB by default: active-defrag-ignore-bytes).
    meaningful = abs(rss - used) >= min_fragmentation_bytes
    return RedisSummary(
        redis_version=str(info["redis_version"]), uptime_seconds=int(info["uptime_in_seconds"]),
        used_memory_bytes=used, used_memory_rss_bytes=rss, maxmemory_bytes=maxmemory,
        maxmemory_policy=str(info.get("maxmemory_policy", "")), memory_usage_ratio=_ratio(used, maxmemory),
        mem_fragmentation_ratio=float(info.get("mem_fragmentation_ratio", 0.0)), fragmentation_bytes=rss - used,
        fragmentation_is_meaningful=meaningful, keyspace_hits=hits, keyspace_misses=misses,
        hit_ratio=_ratio(hits, hits + misses), evicted_keys=int(info["evicted_keys"]),
        expired_keys=int(info["expired_keys"]), instantaneous_ops_per_sec=int(info["instantaneous_ops_per_sec"]),
        total_commands_processed=int(info["total_commands_processed"]),
        connected_clients=int(info["connected_clients"]), blocked_clients=int(info["blocked_clients"]),
        # The server's clock (6.2+), so rates between samples don't depend on our scheduling.
        sampled_at_epoch=int(info["server_time_usec"]) / 1e6 if "server_time_usec" in info else time.time())


# INFO's figures the collector keeps (queries/catalogue.py redis_counters): counters as deltas, gauges as read
COUNTER_COLUMNS = ("keyspace_hits", "keyspace_misses", "evicted_keys", "expired_keys", "total_commands_processed")
GAUGE_COLUMNS = ("used_memory_bytes", "maxmemory_bytes", "connected_clients", "blocked_clients")


@_translated
def redis_counters(client: redis.Redis) -> pd.DataFrame:
    """One row of INFO for the history: COUNTER_COLUMNS, GAUGE_COLUMNS and started_at, the server's start to the
    second (its clock minus its uptime, both whole seconds of one moment: the same on every read until a restart;
    None before Redis 6.2, where a restart is told by the counters going down)."""
    info = client.info()
    now_s = int(info["server_time_usec"]) // 1_000_000 if "server_time_usec" in info else None
    started_at = None if now_s is None else datetime.fromtimestamp(now_s - int(info["uptime_in_seconds"]), UTC)
    row = {**{name: int(info[name]) for name in COUNTER_COLUMNS}, "used_memory_bytes": int(info["used_memory"]),
           "maxmemory_bytes": int(info.get("maxmemory", 0)), "connected_clients": int(info["connected_clients"]),
           "blocked_clients": int(info["blocked_clients"]), "started_at": started_at}
    return pd.DataFrame([row])


def _comparable(previous: RedisSummary | None, current: RedisSummary) -> bool:
    """False without an earlier sample, or when Redis restarted in between (counters start again)."""
    return previous is not None and current.uptime_seconds >= previous.uptime_seconds


def hit_ratio_between(previous: RedisSummary | None, current: RedisSummary) -> float | None:
    """Keyspace hit ratio over the interval between two samples, not since startup."""
    if not _comparable(previous, current):
        return None
    hits = current.keyspace_hits - previous.keyspace_hits
    misses = current.keyspace_misses - previous.keyspace_misses
    if hits < 0 or misses < 0:  # CONFIG RESETSTAT in between
        return None
    return _ratio(hits, hits + misses)


def ops_per_second_between(previous: RedisSummary | None, current: RedisSummary) -> float | None:
    """Commands per second between two samples; None without a usable earlier one."""
    if not _comparable(previous, current):
        return None
    elapsed = current.sampled_at_epoch - previous.sampled_at_epoch
    done = current.total_commands_processed - previous.total_commands_processed
    if elapsed <= 0 or done < 0:
        return None
    return done / elapsed


def _info_rows(text: str) -> Iterator[tuple[str, str, str]]:
    section = ""
    for line in text.splitlines():
        if line.startswith("#"):
            section = line.lstrip("#").strip().lower()
        elif ":" in line:
            name, value = line.split(":", 1)
            yield section, name, value


@_translated
def redis_info(client: redis.Redis) -> pd.DataFrame:
    """Every INFO field as section, name, value (text as Redis sent it), for the CSV report."""
    # A bytes command name skips redis-py's INFO parser (looked up by str name), which flattens
    # the sections away; we want the raw text with its '# Section' headers.
    raw = _text(client.execute_command(b"INFO", "everything"))
    return pd.DataFrame(list(_info_rows(raw or "")), columns=["section", "name", "value"])


@_translated
def keyspace(client: redis.Redis) -> pd.DataFrame:
    """Keys, keys with an expiry and their average TTL per database (INFO keyspace)."""
    rows = [(int(name.removeprefix("db")), int(stats["keys"]), int(stats["expires"]), int(stats["avg_ttl"]))
            for name, stats in client.info("keyspace").items() if name.startswith("db")]
    frame = pd.DataFrame(rows, columns=["db", "keys", "expires", "avg_ttl_ms"])
    return frame.sort_values("db").reset_index(drop=True)


@_translated
def commandstats(client: redis.Redis, *, limit: int = 100) -> pd.DataFrame:
    """Calls and time per command since startup or CONFIG RESETSTAT (INFO commandstats)."""
    # rejected_calls and failed_calls exist from Redis 6.2 on.
    rows = [(name.removeprefix("cmdstat_"), int(stats["calls"]), int(stats["usec"]), float(stats["usec_per_call"]),
             int(stats.get("rejected_calls", 0)), int(stats.get("failed_calls", 0)))
            for name, stats in client.info("commandstats").items() if isinstance(stats, dict)]
    frame = pd.DataFrame(rows, columns=["command", "calls", "usec_total", "usec_per_call", "rejected_calls",
                                        "failed_calls"])
    return frame.sort_values(["usec_total", "command"], ascending=[False, True]).head(limit).reset_index(drop=True)


def _shorten(text: str | None, limit: int = MAX_COMMAND_CHARS) -> str | None:
    return text if text is None or len(text) <= limit else text[: limit - 1] + "…"


@_translated
def slowlog(client: redis.Redis, *, limit: int = 128) -> pd.DataFrame:
    """The newest entries of the slow log, newest first (SLOWLOG GET)."""
    rows = [(entry["id"], entry["start_time"], entry["duration"], _shorten(_text(entry.get("command"))),
             _text(entry.get("client_address")), _text(entry.get("client_name")))
            for entry in client.slowlog_get(limit)]
    frame = pd.DataFrame(rows, columns=["id", "started_at", "duration_us", "command", "client_addr", "client_name"])
    frame["started_at"] = pd.to_datetime(frame["started_at"].astype("int64"), unit="s", utc=True)
    return frame


def _sample_keys(client: redis.Redis, sample_size: int, scan_count: int, max_seconds: float) -> tuple[list[bytes], bool]:
    """Up to sample_size distinct keys from SCAN within max_seconds; True if the scan covered the whole db."""
    deadline = time.monotonic() + max_seconds
    keys: dict[bytes, None] = {}  # SCAN may return a key twice while the table rehashes
    cursor = 0
    while True:
        cursor, batch = client.scan(cursor, count=max(1, min(scan_count, sample_size)))
        keys.update(dict.fromkeys(batch))
        if cursor == 0 or len(keys) >= sample_size or time.monotonic() >= deadline:
            complete = cursor == 0 and len(keys) <= sample_size
            return list(keys)[:sample_size], complete


def _namespace(key: str, separator: str, depth: int) -> str:
    """The first `depth` parts of a key, never its last part (that is the id, not the namespace)."""
    parts = key.split(separator)
    return separator.join(parts[: min(depth, len(parts) - 1)]) or NO_NAMESPACE


def _key_details(client: redis.Redis, keys: list[bytes], separator: str, depth: int) -> pd.DataFrame:
    """namespace, memory_bytes, ttl_seconds (NaN without TTL) per key (pipelined MEMORY USAGE, PTTL)."""
    rows = []
    for start in range(0, len(keys), PIPELINE_CHUNK):
        chunk = keys[start:start + PIPELINE_CHUNK]
        pipe = client.pipeline(transaction=False)
        for key in chunk:
            pipe.memory_usage(key)
            pipe.pttl(key)
        replies = pipe.execute()
        for key, memory, pttl in zip(chunk, replies[0::2], replies[1::2], strict=True):
            if memory is None or pttl == -2:  # expired or deleted since SCAN returned it
                continue
            rows.append((_namespace(_text(key), separator, depth), int(memory), pttl / 1000 if pttl >= 0 else None))
    return pd.DataFrame(rows, columns=["namespace", "memory_bytes", "ttl_seconds"]).astype({"ttl_seconds": "float64"})


NAMESPACE_COLUMNS = ["namespace", "sampled_keys", "estimated_keys", "memory_bytes", "avg_memory_bytes", "keys_with_ttl",
                     "keys_without_ttl", "min_ttl_seconds", "median_ttl_seconds", "max_ttl_seconds"]


@_translated
def key_namespaces(client: redis.Redis, *, sample_size: int = 2000, scan_count: int = 500, max_seconds: float = 1.0,
                   separator: str = ":", depth: int = 2) -> pd.DataFrame:
    """Memory and TTLs per key prefix, from a bounded SCAN sample (MEMORY USAGE, PTTL, DBSIZE)."""
    keys, complete = _sample_keys(client, sample_size, scan_count, max_seconds)
    details = _key_details(client, keys, separator, depth)
    if details.empty:
        return pd.DataFrame(columns=NAMESPACE_COLUMNS)
    frame = details.groupby("namespace").agg(
        sampled_keys=("memory_bytes", "size"), memory_bytes=("memory_bytes", "sum"),
        avg_memory_bytes=("memory_bytes", "mean"), keys_with_ttl=("ttl_seconds", "count"),
        min_ttl_seconds=("ttl_seconds", "min"), median_ttl_seconds=("ttl_seconds", "median"),
        max_ttl_seconds=("ttl_seconds", "max")).reset_index()
    frame["keys_without_ttl"] = frame["sampled_keys"] - frame["keys_with_ttl"]
    # SCAN walks the hash table in bucket order, which is unrelated to key names: a partial
    # sample is close to a uniform one, so scaling by dbsize / sampled is a fair estimate.
    scale = 1.0 if complete else client.dbsize() / len(keys)
    frame["estimated_keys"] = (frame["sampled_keys"] * scale).round().astype("int64")
    frame = frame.sort_values(["memory_bytes", "namespace"], ascending=[False, True]).reset_index(drop=True)
    return frame[NAMESPACE_COLUMNS]
