"""Writes to the history store, and its upkeep: day partitions ahead, retention, the hourly roll-up.

Every function takes a sync SQLAlchemy connection: the dashboard's psycopg one, or the collector's asyncpg one through
AsyncConnection.run_sync, so there is one implementation of each write.
"""
from __future__ import annotations

import contextlib
from datetime import UTC, date, datetime, timedelta

import sqlalchemy as sa

from queries.connection import describe_target
from queries.history._sql import store_sql
from queries.history.deltas import Batch, MetricState, typed_counters
from queries.history.sampling import ActivityBucket

TIME_SERIES_TABLES = ("statement_delta", "statement_collection", "database_delta", "connection_sample",
                      "statement_delta_hourly", "activity_bucket", "activity_load", "lock_wait_sample",
                      "setting_change", "redis_sample", "activity_bucket_hourly", "activity_load_hourly")
ROW_INSERTS = {"statements": "insert_statement_delta", "database_counters": "insert_database_delta",
               "connection_states": "insert_connection_sample", "settings": "insert_setting_change",
               "redis_counters": "insert_redis_sample"}
# where a batch's entry state goes, by the metric's kind: counters as float8[], changes' values as text[]
STATE_WRITES = {"counter": ("upsert_counter_state", "delete_counter_state"),
                "changes": ("upsert_value_state", "delete_value_state")}
# space and index use over time (migration 0006)
TIME_SERIES_TABLES += ("relation_size", "database_size_sample", "index_scan_delta", "metric_collection")
ROW_INSERTS.update(relation_sizes="insert_relation_size", database_size="insert_database_size_sample",
                   index_scans="insert_index_scan_delta")
# metrics whose rows carry names stored once per key (catalogue Stored.names)
NAME_UPSERTS = {"relation_sizes": "upsert_relation_name"}
DEFAULT_RETENTION_DAYS = 14
ROLL_UP_AFTER_DAYS = 2  # per-collection statement deltas are kept this long; every complete hour also per hour
ROLL_UP_LAG = timedelta(hours=1)  # an hour is rolled up once it ended this long ago (late writes are added to it)
# (store, day) pairs whose partitions this process made or found: a write checks its day's partitions once, not per batch
_partitioned: set[tuple[str, date]] = set()


def target_id(conn: sa.Connection, name: str, database_url: str) -> int:
    """The store's id of a target, created on first use; stored by name and host:port/dbname only."""
    found = conn.execute(store_sql("upsert_target"), {"name": name, "location": describe_target(database_url)}).scalar_one()
    conn.commit()
    return found


def find_target_id(conn: sa.Connection, name: str) -> int | None:
    """The store's id of a target by name, or None if it was never collected."""
    return conn.execute(store_sql("select_target_id"), {"name": name}).scalar_one_or_none()


def load_state(conn: sa.Connection, target: int, metric: str, values: tuple[str, ...]) -> MetricState | None:
    """The last stored snapshot of one metric (markers and each entry's counters), or None before the first."""
    marker = conn.execute(store_sql("select_collector_state"), {"target_id": target, "metric": metric}).mappings().one_or_none()
    if marker is None:
        conn.rollback()
        return None
    state = MetricState(**dict(marker))
    for entry, counters, since in conn.execute(store_sql("select_counter_state"), {"target_id": target, "metric": metric}):
        state.entries[entry] = (typed_counters(tuple(counters), values), since)
    for entry, kept in conn.execute(store_sql("select_value_state"), {"target_id": target, "metric": metric}):
        state.entries[entry] = (tuple(kept), None)
    conn.rollback()
    return state


def known_queryids(conn: sa.Connection, target: int) -> set[int]:
    """The queryids whose text the store holds for a target."""
    found = set(conn.execute(store_sql("select_statement_queryids"), {"target_id": target}).scalars())
    conn.rollback()
    return found


def ensure_partitions(conn: sa.Connection, days: list[date]) -> None:
    """Create the day partitions of every time-series table for these days (if missing), and commit."""
    store = conn.engine.url.render_as_string(hide_password=True)
    for day in sorted(set(days)):
        for parent in TIME_SERIES_TABLES:
            conn.execute(store_sql("select_ensure_partition"), {"parent": parent, "day": day})
        conn.commit()
        _partitioned.add((store, day))


def partitions_ahead(conn: sa.Connection, now: datetime | None = None, days_ahead: int = 2) -> None:
    """Today's partitions and the next days', so a write never waits on DDL at midnight."""
    today = (now or datetime.now(UTC)).astimezone(UTC).date()
    ensure_partitions(conn, [today + timedelta(days=offset) for offset in range(days_ahead + 1)])


def write_batch(conn: sa.Connection, target: int, batch: Batch) -> bool:
    """Store one snapshot's batch in one transaction. False (nothing written) when the store's last snapshot of the
    metric is not the one the batch follows: another collector stored it meanwhile, and its delta covers ours."""
    partitioned = (conn.engine.url.render_as_string(hide_password=True), batch.sampled_at.astimezone(UTC).date())
    if partitioned not in _partitioned:
        ensure_partitions(conn, [partitioned[1]])
    try:
        return _write_batch(conn, target, batch)
    except Exception:
        _partitioned.discard(partitioned)  # another process may have dropped or rolled that day: check it again
        with contextlib.suppress(Exception):  # a store that went away cannot roll back: the error below says so
            conn.rollback()
        raise


def _write_batch(conn: sa.Connection, target: int, batch: Batch) -> bool:
    ids = {"target_id": target, "metric": batch.metric}
    stored = conn.execute(store_sql("select_collector_state"), ids).mappings().one_or_none()
    last = stored["sampled_at"] if stored else None
    if last == batch.sampled_at:  # written already: the store went away after the commit, before we heard of it
        conn.rollback()
        return True
    if last != batch.previous_sampled_at:
        conn.rollback()
        return False
    timing = {"target_id": target, "sampled_at": batch.sampled_at}
    if batch.texts:
        conn.execute(store_sql("insert_statement_text"), [{**timing, **text} for text in batch.texts])
    if batch.rows:
        interval = {} if batch.metric in ("connection_states", "settings") else {"interval_s": batch.interval_s}
        rows = [{**timing, **interval, **row} for row in batch.rows]
        conn.execute(store_sql(ROW_INSERTS[batch.metric]), rows)
        if batch.metric == "statements" and _rolled_past(conn, target, batch.sampled_at):
            conn.execute(store_sql("insert_statement_delta_hourly"), rows)  # late: its hour is rolled up already
        named = [row for row in rows if row.get("relation_name") is not None]  # a gone entry's row has no names
        if batch.metric in NAME_UPSERTS and named:
            conn.execute(store_sql(NAME_UPSERTS[batch.metric]), named)
    if batch.collection:
        collection = "insert_statement_collection" if batch.metric == "statements" else "insert_metric_collection"
        conn.execute(store_sql(collection), {**timing, **batch.collection})
    upsert, delete = STATE_WRITES[batch.kind]
    if batch.changed:
        conn.execute(store_sql(upsert), [{**ids, **change} for change in batch.changed])
    if batch.gone:
        conn.execute(store_sql(delete), {**ids, "entries": batch.gone})
    conn.execute(store_sql("upsert_collector_state"), {**ids, "sampled_at": batch.sampled_at, **batch.markers})
    conn.commit()
    return True


def write_activity(conn: sa.Connection, target: int, bucket: ActivityBucket) -> None:
    """Store one bucket of session samples and its lock trees in one transaction. No check against another
    collector: only the target's lock holder samples, and two rows of one bucket (a restart inside it) add up."""
    day = (conn.engine.url.render_as_string(hide_password=True), bucket.sampled_at.astimezone(UTC).date())
    if day not in _partitioned:
        ensure_partitions(conn, [day[1]])
    ids = {"target_id": target}
    try:
        conn.execute(store_sql("insert_activity_bucket"), {**ids, **bucket.bucket_row()})
        if bucket.load:
            conn.execute(store_sql("insert_activity_load"), [{**ids, **row} for row in bucket.load_rows()])
        if _rolled_past(conn, target, bucket.sampled_at):  # late: its hour is rolled up already
            conn.execute(store_sql("insert_activity_bucket_hourly"), {**ids, **bucket.bucket_row()})
            if bucket.load:
                conn.execute(store_sql("insert_activity_load_hourly"), [{**ids, **row} for row in bucket.load_rows()])
        if bucket.lock_trees:
            conn.execute(store_sql("insert_lock_wait_sample"), [{**ids, **row} for row in bucket.lock_rows()])
        conn.commit()
    except Exception:
        _partitioned.discard(day)
        with contextlib.suppress(Exception):
            conn.rollback()
        raise


def _rolled_past(conn: sa.Connection, target: int, sampled_at: datetime) -> bool:
    """Whether the hour of sampled_at is rolled up already; the shared lock keeps a roll-up from running meanwhile."""
    conn.execute(store_sql("select_rollup_lock"), {"exclusive": False})
    watermark = conn.execute(store_sql("select_rollup_watermark"), {"target_id": target}).scalar_one_or_none()
    return watermark is not None and sampled_at < watermark


def partitions(conn: sa.Connection) -> list[tuple[str, str, date]]:
    """(table, partition, day) of every day partition in the store."""
    found = [tuple(row) for row in conn.execute(store_sql("select_partitions"))]
    conn.rollback()
    return found


def drop_old_partitions(conn: sa.Connection, retention_days: int = DEFAULT_RETENTION_DAYS,
                        now: datetime | None = None) -> list[str]:
    """Drop every day partition wholly older than the retention; return their names."""
    oldest_kept = (now or datetime.now(UTC)).astimezone(UTC).date() - timedelta(days=retention_days)
    dropped = [name for _, name, day in partitions(conn) if day < oldest_kept]
    for name in dropped:
        conn.execute(store_sql("select_drop_partition"), {"partition_name": name})
    conn.commit()
    _partitioned.difference_update({key for key in _partitioned if key[1] < oldest_kept})
    return dropped


def roll_up(conn: sa.Connection, after_days: int = ROLL_UP_AFTER_DAYS, now: datetime | None = None,
            lag: timedelta = ROLL_UP_LAG) -> list[date]:
    """Add every complete hour (older than `lag`) of statement deltas and session samples to the hourly tables and
    move the watermark, in one transaction under an exclusive lock (reads take hours before the watermark from the
    hourly tables, the rest per collection or 10 s bucket); then drop the per-collection statement days older than
    `after_days` (session samples stay for the retention). Returns the days dropped."""
    now = (now or datetime.now(UTC)).astimezone(UTC)
    until = (now - lag).replace(minute=0, second=0, microsecond=0)
    conn.execute(store_sql("select_rollup_lock"), {"exclusive": True})
    for hours in ("insert_statement_hours", "insert_activity_bucket_hours", "insert_activity_load_hours"):
        conn.execute(store_sql(hours), {"until": until})
    conn.execute(store_sql("upsert_rollup_watermark"), {"until": until})
    conn.commit()
    limit = min(now.date() - timedelta(days=after_days), until.date())
    days = [(name, day) for table, name, day in partitions(conn) if table == "statement_delta" and day < limit]
    for name, _ in days:
        conn.execute(store_sql("select_drop_partition"), {"partition_name": name})
    conn.commit()
    _partitioned.difference_update({key for key in _partitioned if key[1] < limit})
    return [day for _, day in days]
