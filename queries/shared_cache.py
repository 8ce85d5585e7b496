"""Query results shared by several dashboard processes through Redis.

Values are Arrow IPC (DataFrames) or JSON (the frozen summary dataclasses and plain numbers),
never pickle: whoever can write to the cache must not be able to run code in the dashboard.
Keys are namespaced and hashed, so no connection string is ever written to Redis.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
from typing import Any

import pandas as pd
import pyarrow as pa

from queries.activity import ConnectionUsage
from queries.cache import CacheSample
from queries.overview import ServerSummary
from queries.redis_stats import RedisSummary
from queries.statements import StatementsStatus

PREFIX = "pgpulse:cache:v1:"
_ARROW, _JSON = b"A", b"J"
# only these types are rebuilt from JSON: the cache cannot make the dashboard build anything else
SUMMARY_TYPES = {cls.__name__: cls for cls in (ServerSummary, StatementsStatus, CacheSample, ConnectionUsage, RedisSummary)}


class NotCacheable(TypeError):
    """A value this cache does not store (it is then kept in the process only)."""


def cache_key(*parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    return PREFIX + digest


def encode(value: Any) -> bytes:
    if isinstance(value, pd.DataFrame):
        sink = io.BytesIO()
        table = pa.Table.from_pandas(value, preserve_index=False)
        with pa.ipc.new_stream(sink, table.schema) as writer:
            writer.write_table(table)
        return _ARROW + sink.getvalue()
    if dataclasses.is_dataclass(value) and type(value).__name__ in SUMMARY_TYPES:
        payload = {"type": type(value).__name__, "fields": dataclasses.asdict(value)}
        return _JSON + json.dumps(payload).encode()
    if value is None or isinstance(value, int | float | str):
        return _JSON + json.dumps({"type": "scalar", "value": value}).encode()
    raise NotCacheable(f"{type(value).__name__} is not stored in the shared cache")


def decode(raw: bytes) -> Any:
    if raw[:1] == _ARROW:
        with pa.ipc.open_stream(raw[1:]) as reader:
            return reader.read_all().to_pandas()
    payload = json.loads(raw[1:])
    if payload["type"] == "scalar":
        return payload["value"]
    return SUMMARY_TYPES[payload["type"]](**payload["fields"])


def get_cached(client, key: str) -> tuple[bool, Any]:
    """(True, value) on a hit, (False, None) on a miss."""
    raw = client.get(key)
    return (False, None) if raw is None else (True, decode(raw))


def take_compute_lock(client, key: str, seconds: float) -> bool:
    """True for the one caller that should compute `key` now (SET NX with an expiry)."""
    return bool(client.set(key + ":computing", b"1", nx=True, px=max(int(seconds * 1000), 1)))


def put_cached(client, key: str, value: Any, ttl_seconds: int) -> None:
    client.set(key, encode(value), ex=max(int(ttl_seconds), 1))
