"""Active session sampling, from samples to what the store keeps: pure functions and plain data (no I/O).

Every history_activity_seconds the collector reads the non-idle client backends (select_active_sessions). Samples
are counted per BUCKET_S bucket per combination of LOAD_KEYS, with the number of samples taken in the bucket: the
average active sessions of a bucket is a combination's samples / the bucket's samples, and over several buckets
their sums' ratio (samples are evenly spaced). A day of 1 s samples of 50 sessions is 8,640 buckets of a few dozen
rows, instead of 4.3 million per-session rows. A sample in which a session waits on a lock also keeps that moment's
blocking tree (select_blocking_tree, at most LOCK_TREE_ROWS rows).
"""
from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

BUCKET_S = 10
LOCK_TREE_ROWS = 50
LOAD_KEYS = ("state", "wait_event_type", "wait_event", "query_id", "user_name", "application_name", "database_name",
             "client_addr", "backend_type")
TREE_KEYS = ("pid", "blocking_pid", "root_pid", "depth", "path", "user_name", "database_name", "state", "wait_seconds",
             "lock_mode", "locktype", "relation", "query", "backend_type")


@dataclass
class ActivityBucket:
    """One bucket's counts: samples taken, and per combination of LOAD_KEYS the samples that found it."""

    sampled_at: datetime  # the bucket's start
    every_s: float = 1.0  # the sampling pace
    max_connections: int | None = None
    cpu_count: int | None = None
    query_id_computed: bool = False
    samples: int = 0
    load: Counter = field(default_factory=Counter)
    lock_trees: list[tuple[datetime, list[dict[str, Any]]]] = field(default_factory=list)

    def bucket_row(self) -> dict[str, Any]:
        return {"sampled_at": self.sampled_at, "bucket_s": float(BUCKET_S), "samples": self.samples,
                "every_s": self.every_s, "max_connections": self.max_connections, "cpu_count": self.cpu_count,
                "query_id_computed": self.query_id_computed}

    def load_rows(self) -> list[dict[str, Any]]:
        return [{"sampled_at": self.sampled_at, **dict(zip(LOAD_KEYS, key, strict=True)), "samples": count}
                for key, count in self.load.items()]

    def lock_rows(self) -> list[dict[str, Any]]:
        return [{"sampled_at": at, **{key: row.get(key) for key in TREE_KEYS}} for at, tree in self.lock_trees
                for row in tree]


def bucket_start(moment: datetime, bucket_s: int = BUCKET_S) -> datetime:
    epoch = moment.astimezone(UTC).timestamp()
    return datetime.fromtimestamp(epoch // bucket_s * bucket_s, UTC)


def waits_on_lock(sessions: list[dict[str, Any]]) -> bool:
    """Whether a sampled session waits on a heavyweight lock: only then is the blocking tree read."""
    return any(session.get("wait_event_type") == "Lock" for session in sessions)


class Aggregator:
    """One target's open bucket: add() each sample; a sample in a later bucket closes the open one and returns it."""

    def __init__(self, cpu_count: int | None = None, every_s: float = 1.0):
        self.cpu_count, self.every_s = cpu_count, every_s
        self.open: ActivityBucket | None = None

    def add(self, at: datetime, rows: list[dict[str, Any]], tree: list[dict[str, Any]] | None = None
            ) -> ActivityBucket | None:
        """One sample's rows (select_active_sessions: the settings on every row, pid NULL when nothing ran)."""
        start, closed = bucket_start(at), None
        if self.open is not None and self.open.sampled_at != start:
            closed, self.open = self.open, None
        if self.open is None:
            settings = rows[0] if rows else {}
            self.open = ActivityBucket(start, self.every_s, settings.get("max_connections"), self.cpu_count,
                                       bool(settings.get("query_id_computed")))
        self.open.samples += 1
        for row in rows:
            if row.get("pid") is not None:
                self.open.load[tuple(row[key] for key in LOAD_KEYS)] += 1
        if tree:
            self.open.lock_trees.append((at, tree[:LOCK_TREE_ROWS]))
        return closed

    def drain(self) -> ActivityBucket | None:
        """The open bucket, partial (on stop): a later collector's rows for the same bucket add up with it."""
        bucket, self.open = self.open, None
        return bucket if bucket is not None and bucket.samples else None
