"""From one snapshot of a stored metric to what the store keeps: deltas between consecutive snapshots of the same entry.

Pure functions (no I/O), so the rules are tested alone and the collector only reads and writes:
- the first snapshot of a metric is the base: no delta (nobody knows over what interval its counters grew);
- an entry in both snapshots: the difference, unless its counters started again, in which case its current value
  is the delta: pg_stat_statements_info.stats_reset changed (a reset), the entry's `since` column changed (an
  eviction that came back on 17+, a database's stats_reset), a counter went down (a reset or a crash restart
  that lost the counters), or execution counters moved while calls did not (before 17: an entry evicted and
  re-created with as many calls as it had). Never negative, never counted twice;
- an entry that is new since the last snapshot: its whole value is the delta (it was created in the interval);
- an entry gone from the view is forgotten, so its return counts from zero;
- entries whose counters did not move write no row (most statements are idle in a minute);
- a clean restart keeps pg_stat_statements' and pg_stat_database's counters (saved at shutdown): the difference
  is right and is what is kept; the collection notes the restart;
- counters with gauges (Redis INFO): a row every collection, the gauges as read beside the deltas;
- changes (settings): the first snapshot is the base (every entry's values kept as state, no row); after it, one
  row per entry whose values differ from the last ones kept (or that appeared, or went), with its previous value.
"""
from __future__ import annotations

from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from queries.catalogue import Metric

# counters stored as float8; the others are whole numbers (bigint in the store)
# counted apart from execution (planning, only with pg_stat_statements.track_planning): may move while calls does not
NOT_EXECUTION = frozenset({"total_plan_time_ms"})
FLOAT_COUNTERS = frozenset({"total_exec_time_ms", "total_plan_time_ms", "io_read_time_ms", "io_write_time_ms", "wal_bytes"})


@dataclass(frozen=True)
class Snapshot:
    """One read of a stored metric: its rows as read, and (statements) the markers of pg_stat_statements_info."""

    metric: str
    sampled_at: datetime
    rows: list[dict[str, Any]]
    stats_reset: datetime | None = None
    server_started_at: datetime | None = None
    dealloc: int | None = None
    estimated: bool = False  # read by the metric's fallback SQL (Stored.fallback_sql): estimates


@dataclass
class MetricState:
    """The last snapshot the store holds of one metric of one target: its markers and each entry's counters."""

    sampled_at: datetime | None = None
    stats_reset: datetime | None = None
    server_started_at: datetime | None = None
    dealloc: int | None = None
    entries: dict[str, tuple[tuple, datetime | None]] = field(default_factory=dict)


@dataclass(frozen=True)
class Batch:
    """What one snapshot adds to the store, written in one transaction (store.write_batch); refused if the store's
    last snapshot of the metric is no longer `previous_sampled_at` (another collector wrote in between)."""

    metric: str
    sampled_at: datetime
    previous_sampled_at: datetime | None
    interval_s: float | None
    markers: dict[str, Any]
    rows: list[dict[str, Any]]  # the metric's table rows (deltas or gauge values), without target and time
    collection: dict[str, Any] | None = None  # statements: the statement_collection row
    texts: list[dict[str, Any]] = field(default_factory=list)  # {queryid, query} not yet stored
    changed: list[dict[str, Any]] = field(default_factory=list)  # {entry, counters, stats_since}
    gone: list[str] = field(default_factory=list)
    kind: str = "counter"  # the metric's Stored.kind: which state table `changed` and `gone` go to


def entry_name(row: dict[str, Any], keys: tuple[str, ...]) -> str:
    return "/".join(str(row[key]) for key in keys)


def counters_of(row: dict[str, Any], values: tuple[str, ...]) -> tuple:
    return tuple(row[name] or 0 for name in values)


def typed_counters(stored: tuple[float, ...], values: tuple[str, ...]) -> tuple:
    """Counters read back from the store's float8[] with whole numbers as int again."""
    return tuple(value if name in FLOAT_COUNTERS else int(value) for name, value in zip(values, stored, strict=True))


def _started_again(previous: tuple[tuple, datetime | None], current: tuple, since: datetime | None,
                   values: tuple[str, ...]) -> bool:
    old_counters, old_since = previous
    if since is not None and old_since is not None and since != old_since:
        return True
    if any(new < old for new, old in zip(current, old_counters, strict=True)):
        return True
    if "calls" not in values:
        return False
    # an execution moves calls and the other execution counters together: counters that moved while calls did not
    # belong to an entry evicted and re-created with as many calls as before (before 17, where no stats_since tells)
    calls_at = values.index("calls")
    return current[calls_at] == old_counters[calls_at] and any(
        new != old for name, new, old in zip(values, current, old_counters, strict=True) if name not in NOT_EXECUTION)


def entry_delta(previous: tuple[tuple, datetime | None] | None, current: tuple, since: datetime | None,
                reset: bool, values: tuple[str, ...]) -> tuple:
    """The delta of one entry (counters named by `values`): see the module's rules."""
    if previous is None or reset or _started_again(previous, current, since, values):
        return current
    return tuple(new - old for new, old in zip(current, previous[0], strict=True))


def _evictions(state: MetricState, snapshot: Snapshot, reset: bool) -> int | None:
    if snapshot.dealloc is None or state.dealloc is None:
        return None
    grown = snapshot.dealloc - state.dealloc
    return snapshot.dealloc if reset or grown < 0 else grown


def next_batch(metric: Metric, state: MetricState | None, snapshot: Snapshot, known_queryids: set[int] | None = None
               ) -> tuple[Batch, MetricState]:
    """The batch one snapshot adds, and the state after it. `known_queryids`: texts the store already has."""
    stored = metric.stored
    state = state or MetricState()
    base = state.sampled_at is None
    interval_s = None if base else (snapshot.sampled_at - state.sampled_at).total_seconds()
    markers = {"stats_reset": snapshot.stats_reset, "server_started_at": snapshot.server_started_at,
               "dealloc": snapshot.dealloc}
    texts = _new_texts(snapshot.rows, stored.texts, known_queryids)
    if stored.kind == "changes":
        return _changes_batch(metric, state, snapshot, interval_s, markers)
    if stored.kind == "gauge" and stored.changes_only:
        return _changed_gauge_batch(metric, state, snapshot, interval_s, markers)
    if stored.kind == "gauge":
        rows = [{name: row[name] for name in (*stored.keys, *stored.values, *stored.names)} for row in snapshot.rows]
        batch = Batch(metric.name, snapshot.sampled_at, state.sampled_at, interval_s, markers, rows, texts=texts)
        return batch, MetricState(snapshot.sampled_at, **markers)
    reset = (not base and snapshot.stats_reset is not None and state.stats_reset is not None
             and snapshot.stats_reset != state.stats_reset)
    rows, changed, entries = [], [], {}
    values = stored.values
    for row in snapshot.rows:
        name, current = entry_name(row, stored.keys), counters_of(row, values)
        since = row.get(stored.since) if stored.since else None
        previous = state.entries.get(name)
        entries[name] = (current, since)
        if previous is not None and previous[0] == current and previous[1] == since and not stored.gauges:
            continue  # idle: no row, no state write
        changed.append({"entry": name, "counters": [float(value) for value in current], "stats_since": since})
        if base:
            continue
        delta = entry_delta(previous, current, since, reset, values)
        if any(delta) or stored.gauges:
            rows.append({**{key: row[key] for key in stored.keys}, **dict(zip(stored.values, delta, strict=True)),
                         **{gauge: row[gauge] for gauge in stored.gauges}})
    gone = [name for name in state.entries if name not in entries]
    collection = None
    if metric.name == "statements" and not base:
        restarted = state.server_started_at is not None and snapshot.server_started_at != state.server_started_at
        collection = {"interval_s": interval_s, "entries": len(snapshot.rows), "evictions": _evictions(state, snapshot, reset),
                      "stats_reset": reset, "server_restarted": restarted}
    elif stored.collections:
        collection = _collection(metric, interval_s, snapshot)
    batch = Batch(metric.name, snapshot.sampled_at, state.sampled_at, interval_s, markers, rows, collection, texts,
                  changed, gone)
    return batch, MetricState(snapshot.sampled_at, **markers, entries=entries)


def text_values(row: dict[str, Any], values: tuple[str, ...]) -> tuple[str | None, ...]:
    """An entry's values as the store's value_state keeps them: text (booleans as 'true' / 'false'), None as None."""
    return tuple(None if row[name] is None else str(row[name]).lower() if isinstance(row[name], bool) else str(row[name])
                 for name in values)


def _changes_batch(metric: Metric, state: MetricState, snapshot: Snapshot, interval_s: float | None, markers: dict
                   ) -> tuple[Batch, MetricState]:
    """Rows for the entries whose values changed since the last snapshot (none for the base), each with its
    previous values (previous_<name>, as text); the state: every entry's values."""
    stored, base = metric.stored, state.sampled_at is None
    current = {entry_name(row, stored.keys): row for row in snapshot.rows}
    entries = {name: (text_values(row, stored.values), None) for name, row in current.items()}
    changed = [{"entry": name, "vals": list(values)} for name, (values, _) in entries.items()
               if state.entries.get(name, (None,))[0] != values]
    gone = [name for name in state.entries if name not in current]
    rows = []
    if not base:
        for name in [change["entry"] for change in changed] + gone:
            row = current.get(name) or {**dict(zip(stored.keys, name.split("/"), strict=True)),
                                        **dict.fromkeys(stored.values)}
            previous = state.entries[name][0] if name in state.entries else (None,) * len(stored.values)
            rows.append({**{key: row[key] for key in (*stored.keys, *stored.values)},
                         **{f"previous_{value}": old for value, old in zip(stored.values, previous, strict=True)},
                         "previous_sampled_at": state.sampled_at})
    batch = Batch(metric.name, snapshot.sampled_at, state.sampled_at, interval_s, markers, rows, changed=changed,
                  gone=gone, kind="changes")
    return batch, MetricState(snapshot.sampled_at, **markers, entries=entries)


def _new_texts(rows: list[dict], text_columns: tuple[str, ...], known: set[int] | None) -> list[dict]:
    if not text_columns:
        return []
    texts, seen = [], set(known or ())
    for row in rows:
        if row["queryid"] not in seen and row.get("query") is not None:
            seen.add(row["queryid"])
            texts.append({"queryid": row["queryid"], "query": row["query"]})
    return texts


def _collection(metric: Metric, interval_s: float | None, snapshot: Snapshot) -> dict[str, Any]:
    """The metric_collection row of a snapshot (interval_s None for the base: counted from here)."""
    return {"metric": metric.name, "interval_s": interval_s, "entries": len(snapshot.rows), "estimated": snapshot.estimated}


def _changed_gauge_batch(metric: Metric, state: MetricState, snapshot: Snapshot, interval_s: float | None,
                         markers: dict[str, Any]) -> tuple[Batch, MetricState]:
    """A gauge that rarely moves (sizes): a row for each entry new or changed since the last snapshot, a row with
    NULL values for each entry gone, and every entry's row in the first snapshot of a UTC day, so that each day
    partition holds its own base and retention never takes away the value a later day starts from."""
    stored = metric.stored
    full = state.sampled_at is None or state.sampled_at.astimezone(UTC).date() != snapshot.sampled_at.astimezone(UTC).date()
    rows, changed, entries = [], [], {}
    for row in snapshot.rows:
        name, current = entry_name(row, stored.keys), counters_of(row, stored.values)
        entries[name] = (current, None)
        previous = state.entries.get(name)
        if previous is None or previous[0] != current:
            changed.append({"entry": name, "counters": [float(value) for value in current], "stats_since": None})
        elif not full:
            continue
        rows.append({column: row[column] for column in (*stored.keys, *stored.values, *stored.names)})
    gone = [name for name in state.entries if name not in entries]
    rows += [{**_key_values(name, stored.keys), **dict.fromkeys(stored.values)} for name in gone]
    batch = Batch(metric.name, snapshot.sampled_at, state.sampled_at, interval_s, markers, rows,
                  _collection(metric, interval_s, snapshot) if stored.collections else None, [], changed, gone)
    return batch, MetricState(snapshot.sampled_at, **markers, entries=entries)


def _key_values(name: str, keys: tuple[str, ...]) -> dict[str, Any]:
    """An entry's key columns back from its name (whole numbers as int: the store's columns are typed)."""
    parts = name.split("/")
    return {key: int(part) if part.lstrip("-").isdigit() else part for key, part in zip(keys, parts, strict=True)}
