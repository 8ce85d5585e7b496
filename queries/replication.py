"""Replication and WAL: this server's role, its standbys, replication slots, the archiver, checkpoints, and on a
standby its WAL receiver and replay lag."""
from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame, fetch_row

GIGABYTE = 1024 ** 3


def _from_row(cls, row: dict):
    return cls(**{field.name: row[field.name] for field in fields(cls)})


@dataclass(frozen=True)
class ReplicationSummary:
    """Primary or standby, WAL position and WAL written, and how much replication there is
    (pg_is_in_recovery, pg_stat_wal, pg_stat_replication, pg_replication_slots)."""

    in_recovery: bool  # True: this server is a standby
    wal_level: str
    max_wal_senders: int
    archive_mode: str
    current_wal_lsn: str | None  # a primary's write position; None on a standby
    wal_position_bytes: int  # the primary's insert position or the standby's replay position, as bytes since 0/0
    receive_lsn: str | None  # standby only
    replay_lsn: str | None  # standby only
    replay_lag_bytes: int | None  # standby only: received but not yet replayed
    replay_lag_seconds: float | None  # standby only: 0 when caught up
    last_replayed_xact_at_epoch: float | None  # standby only
    standbys: int  # rows of pg_stat_replication
    slots: int
    inactive_slots: int
    wal_records: int  # pg_stat_wal, since wal_stats_reset_epoch
    wal_fpi: int
    wal_bytes: int
    wal_buffers_full: int
    wal_stats_reset_epoch: float | None
    sampled_at_epoch: float

    @property
    def replication_configured(self) -> bool:
        return self.in_recovery or self.standbys > 0 or self.slots > 0


def replication_summary(engine: sa.Engine) -> ReplicationSummary:
    """Read one ReplicationSummary (pg_is_in_recovery, pg_stat_wal)."""
    return _from_row(ReplicationSummary, fetch_row(engine, "select_replication_summary"))


def wal_bytes_per_second_between(previous: ReplicationSummary | None, current: ReplicationSummary) -> float | None:
    """WAL written (a primary) or replayed (a standby) per second between two samples; None without a usable one."""
    if previous is None:
        return None
    elapsed = current.sampled_at_epoch - previous.sampled_at_epoch
    written = current.wal_position_bytes - previous.wal_position_bytes
    if elapsed <= 0 or written < 0 or previous.in_recovery != current.in_recovery:  # same sample, or promoted
        return None
    return written / elapsed


def standbys(engine: sa.Engine) -> pd.DataFrame:
    """Each standby streaming from this server: state, sent / write / flush / replay LSN, lag in bytes and seconds,
    sync state (pg_stat_replication), most behind first."""
    frame = fetch_frame(engine, "select_standbys")
    # NULL for a role without pg_read_all_stats: keep them integers, not floats
    return frame.astype({"pid": "int64", "sync_priority": "Int64", "send_lag_bytes": "Int64", "lag_bytes": "Int64"})


def replication_slots(engine: sa.Engine) -> pd.DataFrame:
    """Physical and logical replication slots with the WAL each retains from restart_lsn, wal_status,
    safe_wal_size and inactive_since (17+), inactive slots first, most WAL first (pg_replication_slots)."""
    frame = fetch_frame(engine, "select_replication_slots")
    return frame.astype({"active_pid": "Int64", "retained_wal_bytes": "Int64", "safe_wal_size_bytes": "Int64"})


def stale_slots(slots: pd.DataFrame, *, min_retained_bytes: int = GIGABYTE) -> pd.DataFrame:
    """The rows of replication_slots() that are inactive and retain more than min_retained_bytes of WAL: what fills
    a disk while nobody reads it."""
    return slots[~slots["active"].astype(bool) & (slots["retained_wal_bytes"].fillna(0) > min_retained_bytes)]


@dataclass(frozen=True)
class ArchiverStatus:
    """WAL archiving since stats_reset_epoch (pg_stat_archiver): counts, the last archived and failed WAL files."""

    archive_mode: str  # 'off', 'on' or 'always'
    archived_count: int
    last_archived_wal: str | None
    last_archived_at_epoch: float | None
    failed_count: int
    last_failed_wal: str | None
    last_failed_at_epoch: float | None
    failing: bool  # the last attempt failed: no file archived since the last failure
    stats_reset_epoch: float | None


def archiver(engine: sa.Engine) -> ArchiverStatus:
    """Read the ArchiverStatus (pg_stat_archiver)."""
    return _from_row(ArchiverStatus, fetch_row(engine, "select_archiver"))


@dataclass(frozen=True)
class Checkpoints:
    """Checkpoints and buffers written since stats_reset_epoch (pg_stat_bgwriter up to 16, pg_stat_checkpointer from 17)."""

    checkpoints_timed: int
    checkpoints_requested: int  # forced by max_wal_size or asked for: many of them means max_wal_size is small
    checkpoint_write_time_ms: float
    checkpoint_sync_time_ms: float
    buffers_checkpoint: int
    buffers_clean: int  # written by the background writer
    maxwritten_clean: int  # times the background writer stopped at bgwriter_lru_maxpages
    buffers_backend: int | None  # written by backends themselves; None from 17 (moved to pg_stat_io)
    buffers_alloc: int
    checkpoint_timeout_seconds: float
    max_wal_size_bytes: int
    stats_reset_epoch: float | None

    @property
    def requested_ratio(self) -> float | None:
        total = self.checkpoints_timed + self.checkpoints_requested
        return self.checkpoints_requested / total if total else None


def checkpoints(engine: sa.Engine) -> Checkpoints:
    """Read the Checkpoints counters (pg_stat_bgwriter, pg_stat_checkpointer)."""
    return _from_row(Checkpoints, fetch_row(engine, "select_checkpoints"))


def wal_receiver(engine: sa.Engine) -> pd.DataFrame:
    """On a standby, its WAL receiver: status, primary host and port, slot, positions and the age of the primary's
    last message (pg_stat_wal_receiver; no row on a primary or while not streaming). Its conninfo is left out."""
    frame = fetch_frame(engine, "select_wal_receiver")
    return frame.astype({"pid": "Int64", "sender_port": "Int64", "received_tli": "Int64"})
