"""Query results shared by several dashboard processes through Redis.

Values are Arrow IPC (DataFrames), JSON (the frozen summary dataclasses and plain numbers), or an
ActivitySnapshot as a JSON header of its scalars followed by one Arrow stream per frame; never pickle:
whoever can write to the cache must not be able to run code in the dashboard, nor make it build any
type but these.
Keys are namespaced and hashed, so no connection string is ever written to Redis.
"""
from __future__ import annotations

import dataclasses
import hashlib
import io
import json
import struct
from typing import Any

import pandas as pd
import pyarrow as pa

from queries.activity import ActivitySnapshot, ConnectionUsage
from queries.catalogue import summary_types

PREFIX = "pgpulse:cache:v2:"  # v2: every value carries the time it was read
_ARROW, _JSON, _SNAPSHOT = b"A", b"J", b"S"
_HEADER_LENGTH = 4  # bytes, big-endian: the length of an ActivitySnapshot's JSON header
_READ_AT = struct.Struct(">d")  # every entry starts with the epoch seconds its value was read from the server
# only the catalogue's summary types (and the snapshot's usage) are rebuilt from JSON: the cache cannot make the
# dashboard build anything else
SUMMARY_TYPES = {**summary_types(), ConnectionUsage.__name__: ConnectionUsage}
SUMMARY_TYPES.pop(ActivitySnapshot.__name__, None)  # it has a codec of its own (a header and Arrow frames)


class NotCacheable(TypeError):
    """A value this cache does not store (it is then kept in the process only)."""


def cache_key(*parts: Any) -> str:
    digest = hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()
    return PREFIX + digest


def _arrow(frame: pd.DataFrame) -> bytes:
    sink = io.BytesIO()
    table = pa.Table.from_pandas(frame, preserve_index=False)
    with pa.ipc.new_stream(sink, table.schema) as writer:
        writer.write_table(table)
    return sink.getvalue()


def _frame(raw: bytes) -> pd.DataFrame:
    with pa.ipc.open_stream(raw) as reader:
        return reader.read_all().to_pandas()


_SNAPSHOT_FRAMES = [field.name for field in dataclasses.fields(ActivitySnapshot)
                    if field.name not in ("usage", "can_read_all_stats", "role_name", "unavailable")]


def _encode_snapshot(value: ActivitySnapshot) -> bytes:
    """A JSON header (scalars, the usage, and each frame's byte length; null for a frame that was
    unavailable) and then the frames' Arrow streams, in the header's order."""
    streams = {name: _arrow(getattr(value, name)) for name in _SNAPSHOT_FRAMES if getattr(value, name) is not None}
    header = json.dumps({"usage": dataclasses.asdict(value.usage), "can_read_all_stats": value.can_read_all_stats,
                         "role_name": value.role_name, "unavailable": value.unavailable,
                         "frames": {name: len(streams[name]) if name in streams else None
                                    for name in _SNAPSHOT_FRAMES}}).encode()
    return _SNAPSHOT + len(header).to_bytes(_HEADER_LENGTH, "big") + header + b"".join(streams.values())


def _decode_snapshot(raw: bytes) -> ActivitySnapshot:
    start = _HEADER_LENGTH + int.from_bytes(raw[:_HEADER_LENGTH], "big")
    header = json.loads(raw[_HEADER_LENGTH:start])
    frames = {}
    for name in _SNAPSHOT_FRAMES:  # the dataclass's own list: the header cannot name anything else
        length = header["frames"][name]
        frames[name] = None if length is None else _frame(raw[start:start + length])
        start += length or 0
    return ActivitySnapshot(usage=ConnectionUsage(**header["usage"]), can_read_all_stats=bool(header["can_read_all_stats"]),
                            role_name=str(header["role_name"]),
                            unavailable={str(key): str(text) for key, text in header["unavailable"].items()}, **frames)


def encode(value: Any) -> bytes:
    if isinstance(value, pd.DataFrame):
        return _ARROW + _arrow(value)
    if isinstance(value, ActivitySnapshot):
        return _encode_snapshot(value)
    if dataclasses.is_dataclass(value) and type(value).__name__ in SUMMARY_TYPES:
        payload = {"type": type(value).__name__, "fields": dataclasses.asdict(value)}
        return _JSON + json.dumps(payload).encode()
    if value is None or isinstance(value, int | float | str):
        return _JSON + json.dumps({"type": "scalar", "value": value}).encode()
    raise NotCacheable(f"{type(value).__name__} is not stored in the shared cache")


def decode(raw: bytes) -> Any:
    if raw[:1] == _ARROW:
        return _frame(raw[1:])
    if raw[:1] == _SNAPSHOT:
        return _decode_snapshot(raw[1:])
    payload = json.loads(raw[1:])
    if payload["type"] == "scalar":
        return payload["value"]
    return SUMMARY_TYPES[payload["type"]](**payload["fields"])


def get_cached(client, key: str) -> tuple[bool, Any, float]:
    """(True, value, read_at) on a hit, (False, None, 0.0) on a miss; read_at is when the value was read (epoch s)."""
    raw = client.get(key)
    if raw is None:
        return False, None, 0.0
    return True, decode(raw[_READ_AT.size:]), _READ_AT.unpack_from(raw)[0]


def take_compute_lock(client, key: str, seconds: float) -> bool:
    """True for the one caller that should compute `key` now (SET NX with an expiry)."""
    return bool(client.set(key + ":computing", b"1", nx=True, px=max(int(seconds * 1000), 1)))


def release_compute_lock(client, key: str) -> None:
    """The caller that took the lock will not store a result (it failed, or the value is not cacheable):
    let a waiting peer take the lock and compute at once."""
    client.delete(key + ":computing")


def put_cached(client, key: str, value: Any, ttl_seconds: int, *, read_at: float) -> None:
    client.set(key, _READ_AT.pack(read_at) + encode(value), ex=max(int(ttl_seconds), 1))
