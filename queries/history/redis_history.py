"""A target's Redis over a range, from the collector's INFO readings (pgpulse.redis_sample): hit ratio, memory against
maxmemory, evictions, commands per second and clients per bucket. A bucket without a reading (Redis down, no
collector) has no row: a gap, never a zero."""
from __future__ import annotations

from datetime import datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from queries.history.reads import _checked_range, _read, _target, bucket_seconds

REDIS_SERIES_COLUMNS = ["bucket_start", "covered_s", "hit_ratio", "keyspace_hits", "keyspace_misses", "evicted_keys",
                        "expired_keys", "ops_per_s", "used_memory_bytes", "maxmemory_bytes", "connected_clients",
                        "blocked_clients"]


def redis_series(store: sa.Engine, target: str, start: datetime, end: datetime, *,
                 bucket_s: int | None = None) -> pd.DataFrame:
    """Per bucket of [start, end): bucket_start, covered_s, hit_ratio (hits / lookups; None without a lookup),
    keyspace_hits, keyspace_misses, evicted_keys, expired_keys (counts in the bucket), ops_per_s (commands processed
    per second), used_memory_bytes (its peak), maxmemory_bytes (0: no limit), connected_clients (mean),
    blocked_clients (peak)."""
    start, end = _checked_range(start, end)
    target_id = _target(store, target)
    if target_id is None:
        return pd.DataFrame(columns=REDIS_SERIES_COLUMNS)
    frame = _read(store, "select_redis_buckets", {"target_id": target_id, "start": start, "end": end,
                                                  "bucket": timedelta(seconds=bucket_s or bucket_seconds(start, end))})
    lookups = (frame["keyspace_hits"] + frame["keyspace_misses"]).astype("float64")
    covered = frame["covered_s"].where(frame["covered_s"] > 0)
    frame = frame.assign(hit_ratio=frame["keyspace_hits"] / lookups.where(lookups > 0),
                         ops_per_s=frame["total_commands_processed"] / covered)
    return frame[REDIS_SERIES_COLUMNS].reset_index(drop=True)
