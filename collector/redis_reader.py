"""Reads of a target's Redis for the collector: redis-py's client (queries.redis_stats) in a worker thread, so a slow
or unreachable Redis (2 s timeouts) never holds up the event loop and with it the PostgreSQL reads."""
from __future__ import annotations

import asyncio
import contextlib
from datetime import UTC, datetime

import pandas as pd

from queries import redis_stats
from queries.catalogue import Metric
from queries.history.deltas import Snapshot


class RedisReader:
    """One target's Redis client (connects on its first command; raises InvalidTargetError for a bad URL)."""

    def __init__(self, redis_url: str):
        self.client = redis_stats.connect(redis_url)

    async def read(self, metric: Metric) -> Snapshot:
        """One snapshot of a Redis metric: its read function's rows (PgPulseError when Redis cannot be read)."""
        frame = await asyncio.to_thread(metric.read, self.client)
        return Snapshot(metric.name, datetime.now(UTC), [_plain(row) for row in frame.to_dict("records")])

    async def close(self) -> None:
        with contextlib.suppress(Exception):  # a Redis gone away has nothing to close
            await asyncio.to_thread(self.client.close)


def _plain(row: dict) -> dict:
    """Python values for the store's driver: datetimes rather than pandas Timestamps, None rather than NaN/NaT."""
    return {name: None if value is None or value is pd.NaT or (isinstance(value, float) and pd.isna(value))
            else value.to_pydatetime() if isinstance(value, pd.Timestamp) else value for name, value in row.items()}
