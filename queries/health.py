"""Health checks for the Overview: pass / warn with the number behind each and the page to open.

Which checks exist, and the page and pace of each, is declared in queries/catalogue.py beside the metric each
judges; this module holds the verdicts. Each check runs on its own: one that can't be had (missing privilege,
Redis down) is reported as 'error' with its reason and the others still run.
"""
from __future__ import annotations

import functools
from dataclasses import asdict, dataclass, field
from typing import Any

import pandas as pd
import sqlalchemy as sa

from queries import activity, cache, indexes, maintenance, redis_stats, replication, statements
from queries.errors import PgPulseError

ALL_GROUPS = ("live", "catalog")
STATUS_ORDER = {"error": 0, "warn": 1, "pass": 2}  # what needs a look first


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # 'pass', 'warn' or 'error'
    value: float | None
    threshold: float | None
    detail: str
    page: str  # the page that shows the rows behind the number


@dataclass(frozen=True)
class Verdict:
    """What one check found; its name and page come from the catalogue."""

    status: str
    value: float | None
    threshold: float | None
    detail: str


@dataclass(frozen=True)
class Thresholds:
    """Every check's threshold, as health_checks' keyword arguments."""

    long_query_s: float = 60
    idle_in_transaction_s: float = 60
    blocked_s: float = 5
    max_connection_ratio: float = 0.8
    min_cache_hit_ratio: float = 0.99
    max_wraparound_ratio: float = 0.5
    max_overflow_ratio: float = 0.9
    slow_statement_ms: float = 1000.0
    max_statement_time_share: float = 0.5  # one statement taking more of the database's time than this
    redis_min_hit_ratio: float = 0.8
    redis_max_memory_ratio: float = 0.9
    max_slot_retained_bytes: int = replication.GIGABYTE  # WAL an inactive replication slot may keep
    max_replication_lag_s: float = 60
    max_replication_lag_bytes: int = replication.GIGABYTE


@dataclass
class CheckInputs:
    """What the verdicts read: the engine, the Redis client, the thresholds, and the reads several checks share,
    each made once (a failed read is not kept: each check that needs it then reports it)."""

    engine: sa.Engine
    redis_client: Any = None
    limits: Thresholds = field(default_factory=Thresholds)

    @functools.cached_property
    def sessions(self) -> activity.SessionCounts:
        # one transaction, one pg_stat_activity snapshot for every session check
        return activity.session_counts(self.engine, min_seconds=self.limits.long_query_s,
                                       idle_min_seconds=self.limits.idle_in_transaction_s,
                                       blocked_min_seconds=self.limits.blocked_s)

    @functools.cached_property
    def redis_summary(self) -> redis_stats.RedisSummary:
        return redis_stats.redis_summary(self.redis_client)

    @functools.cached_property
    def top_statements(self) -> pd.DataFrame:
        return statements.statements(self.engine, sort_by="total_exec_time_ms", limit=1000)


def counted(count: int, singular: str, plural: str | None = None) -> str:
    """'1 unused index', '3 unused indexes'."""
    return f"{count:,} {singular if count == 1 else plural or singular + 's'}"


def _count_verdict(count: int, what: str, limit: int = 0) -> Verdict:
    return Verdict("warn" if count > limit else "pass", float(count), float(limit), what)


def _ratio_verdict(ratio: float | None, *, minimum: float | None = None, maximum: float | None = None,
                   what: str) -> Verdict:
    limit = minimum if minimum is not None else maximum
    if ratio is None:
        return Verdict("pass", None, limit, f"no data yet for {what}")
    bad = (minimum is not None and ratio < minimum) or (maximum is not None and ratio > maximum)
    shown = f"{ratio:.1%}" if f"{ratio:.1%}" != f"{limit:.1%}" else f"{ratio:.2%}"  # never "99.0% (limit 99%)" as a warning
    return Verdict("warn" if bad else "pass", ratio, limit, f"{what}: {shown} (limit {limit:.0%})")


def _with_privilege_note(inputs: CheckInputs, verdict: Verdict) -> Verdict:
    """A role without pg_read_all_stats sees other roles' sessions without state or query: a count
    of 0 would then be a false 'pass', so say what it cannot see."""
    if verdict.status != "pass" or inputs.sessions.can_read_all_stats:
        return verdict
    return Verdict("warn", verdict.value, verdict.threshold,
                   f"{verdict.detail} of this role's own; other roles' sessions are hidden: "
                   f"GRANT pg_monitor TO {inputs.sessions.role_name}")


# ---- the verdicts, one per check (named in queries/catalogue.py) -----------------------------------------------------

def long_running_queries(inputs: CheckInputs) -> Verdict:
    count = inputs.sessions.long_running_queries
    return _with_privilege_note(inputs, _count_verdict(
        count, f"{counted(count, 'query', 'queries')} running longer than {inputs.limits.long_query_s:g} s"))


def idle_in_transaction(inputs: CheckInputs) -> Verdict:
    count = inputs.sessions.idle_in_transaction
    return _with_privilege_note(inputs, _count_verdict(
        count, f"{counted(count, 'session')} idle in transaction over {inputs.limits.idle_in_transaction_s:g} s"))


def blocked_sessions(inputs: CheckInputs) -> Verdict:
    count = inputs.sessions.blocked_sessions
    return _with_privilege_note(inputs, _count_verdict(
        count, f"{counted(count, 'session')} waiting on another's lock for {inputs.limits.blocked_s:g} s or more"))


def connection_usage(inputs: CheckInputs) -> Verdict:
    return _ratio_verdict(inputs.sessions.usage.usage_ratio, maximum=inputs.limits.max_connection_ratio,
                          what="connections used of max_connections")


def buffer_cache_hit_ratio(inputs: CheckInputs) -> Verdict:
    return _ratio_verdict(cache.database_cache_hit(inputs.engine).hit_ratio, minimum=inputs.limits.min_cache_hit_ratio,
                          what="blocks found in shared buffers")


def wraparound(inputs: CheckInputs) -> Verdict:
    frame = maintenance.database_wraparound(inputs.engine)
    worst = float(frame["percent_towards_wraparound"].max()) / 100 if not frame.empty else None
    return _ratio_verdict(worst, maximum=inputs.limits.max_wraparound_ratio, what="oldest database's way to wraparound")


def overflow(inputs: CheckInputs) -> Verdict:
    ratio = inputs.limits.max_overflow_ratio
    count = (len(maintenance.integer_column_overflow(inputs.engine, min_ratio=ratio))
             + len(maintenance.sequence_overflow(inputs.engine, min_ratio=ratio)))
    return _count_verdict(count, f"{counted(count, 'sequence or integer column', 'sequences or integer columns')} "
                                 f"over {ratio:.0%} of their range")


def invalid_indexes(inputs: CheckInputs) -> Verdict:
    count = len(indexes.invalid_indexes(inputs.engine))
    return _count_verdict(count, counted(count, "invalid index", "invalid indexes"))


def duplicate_indexes(inputs: CheckInputs) -> Verdict:
    count = len(indexes.duplicate_indexes(inputs.engine))
    return _count_verdict(count, counted(count, "redundant index", "redundant indexes"))


def unused_indexes(inputs: CheckInputs) -> Verdict:
    count = indexes.unused_index_count(inputs.engine)
    return _count_verdict(count, counted(count, "never-scanned index", "never-scanned indexes"))


def slow_statements(inputs: CheckInputs) -> Verdict:
    frame, slow_ms = inputs.top_statements, inputs.limits.slow_statement_ms
    count = int((frame["mean_exec_time_ms"] >= slow_ms).sum()) if not frame.empty else 0
    return _count_verdict(count, f"{counted(count, 'statement')} averaging over {slow_ms:g} ms")


def dominant_statement(inputs: CheckInputs) -> Verdict:
    """One statement taking most of the database's time is where to look first, whatever its mean."""
    frame, share = inputs.top_statements, inputs.limits.max_statement_time_share
    top = frame["percent_of_total_time"].max() / 100 if not frame.empty else None
    if top is None or pd.isna(top):
        return Verdict("pass", None, share, "no statement time recorded yet")
    worst = frame.loc[frame["percent_of_total_time"].idxmax()]
    flat = " ".join(str(worst["query"]).split())
    text = flat if len(flat) <= 48 else flat[:47] + "…"  # the check is one line on the Overview
    detail = f"the busiest statement takes {top:.0%} of the database's time (limit {share:.0%}): {text}"
    return Verdict("warn" if top > share else "pass", float(top), share, detail)


def n_plus_one_patterns(inputs: CheckInputs) -> Verdict:
    from queries.advisors.n_plus_one import n_plus_one  # the advisors read statements and the catalog: import late

    frame = n_plus_one(inputs.engine)
    if frame.empty:
        return _count_verdict(0, "no statement looks like an N+1 loop")
    busiest = frame.iloc[0]
    return _count_verdict(len(frame), f"{counted(len(frame), 'N+1 suspect')}, the busiest read "
                                      f"{busiest['calls_per_parent_call']:.1f} times per call of its parent: "
                                      f"{busiest['foreign_key']}")


def missing_indexes(inputs: CheckInputs) -> Verdict:
    from queries.advisors.indexes import suggested_indexes  # the advisors read statements and the catalog: import late

    frame = suggested_indexes(inputs.engine)
    if frame.empty:
        return _count_verdict(0, "no index suggested for the statements taking the time")
    verified = int(frame["verified"].sum())
    return _count_verdict(len(frame), f"{counted(len(frame), 'suggested index', 'suggested indexes')} "
                                      f"({verified:,} verified by HypoPG), the first: {frame['create_index'].iloc[0]}")


def stale_statistics(inputs: CheckInputs) -> Verdict:
    from queries.advisors.statistics import stale_statistics  # the advisors read statements and the catalog: import late

    frame = stale_statistics(inputs.engine, statement_limit=0)  # the count needs no statement planned
    if frame.empty:
        return _count_verdict(0, "no table changed past its analyze threshold since its last ANALYZE")
    first = frame.iloc[0]
    return _count_verdict(len(frame), f"{counted(len(frame), 'table')} changed past the analyze threshold since the "
                                      f"last ANALYZE, the most: {first['fix_sql']} "
                                      f"({first['rows_modified_since_analyze']:,} rows changed)")


def redis_hit_ratio(inputs: CheckInputs) -> Verdict:
    return _ratio_verdict(inputs.redis_summary.hit_ratio, minimum=inputs.limits.redis_min_hit_ratio,
                          what="lookups that found their key")


def redis_memory(inputs: CheckInputs) -> Verdict:
    return _ratio_verdict(inputs.redis_summary.memory_usage_ratio, maximum=inputs.limits.redis_max_memory_ratio,
                          what="used memory of maxmemory")


def _megabytes(size_bytes: float) -> str:
    return f"{size_bytes / 1024 ** 2:,.0f} MB"


NO_REPLICATION = "no replication configured"


def stale_replication_slots(inputs: CheckInputs) -> Verdict:
    """An inactive slot keeps every WAL file from its restart_lsn on: the disk fills while nobody reads them."""
    slots, limit = replication.replication_slots(inputs.engine), inputs.limits.max_slot_retained_bytes
    if slots.empty:
        return Verdict("pass", None, float(limit), f"{NO_REPLICATION}: no replication slots")
    inactive = slots[~slots["active"].astype(bool)]
    worst = float(inactive["retained_wal_bytes"].fillna(0).max()) if not inactive.empty else 0.0
    stale = replication.stale_slots(slots, min_retained_bytes=limit)
    if stale.empty:
        return Verdict("pass", worst, float(limit), f"no inactive slot retains more than {_megabytes(limit)} of WAL "
                                                    f"({counted(len(slots), 'slot')}, {len(inactive):,} inactive)")
    named = ", ".join(f"{row.slot_name} ({_megabytes(row.retained_wal_bytes)})" for row in stale.itertuples())
    return Verdict("warn", worst, float(limit), f"{counted(len(stale), 'inactive slot')} retaining more than "
                                                f"{_megabytes(limit)} of WAL: {named}")


def replication_lag(inputs: CheckInputs) -> Verdict:
    """How far behind the standbys replay (on a primary), or this standby replays (on a standby)."""
    max_s, max_bytes = inputs.limits.max_replication_lag_s, inputs.limits.max_replication_lag_bytes
    summary = replication.replication_summary(inputs.engine)
    if summary.in_recovery:
        lag_s, lag_bytes, who = summary.replay_lag_seconds or 0.0, summary.replay_lag_bytes or 0, "this standby"
    else:
        frame = replication.standbys(inputs.engine)
        if frame.empty:
            return Verdict("pass", None, max_s, f"{NO_REPLICATION}: no standby streams from this server")
        worst = frame.loc[frame["replay_lag_seconds"].fillna(0).idxmax()]
        lag_s, lag_bytes = float(worst["replay_lag_seconds"] or 0), int(frame["lag_bytes"].fillna(0).max())
        who = f"the furthest standby ({worst['application_name'] or worst['client_addr']})"
    status = "warn" if lag_s > max_s or lag_bytes > max_bytes else "pass"
    return Verdict(status, float(lag_s), max_s, f"{who} replays {lag_s:,.1f} s and {_megabytes(lag_bytes)} behind "
                                                f"(limits {max_s:g} s, {_megabytes(max_bytes)})")


def failing_archiver(inputs: CheckInputs) -> Verdict:
    status = replication.archiver(inputs.engine)
    if status.archive_mode == "off":
        return Verdict("pass", None, 0.0, "WAL archiving is off (archive_mode)")
    failures = f"{counted(status.failed_count, 'failure')} since the statistics were reset"
    if status.failing:
        return Verdict("warn", float(status.failed_count), 0.0, f"archiving fails: {status.last_failed_wal} failed "
                                                                f"and nothing was archived since; {failures}")
    return Verdict("pass", float(status.failed_count), 0.0,
                   f"archiving works: {counted(status.archived_count, 'WAL file')} archived, last "
                   f"{status.last_archived_wal or 'none yet'}; {failures}")


# ---- running them ------------------------------------------------------------------------------------------------

def _run(name: str, page: str, verdict, inputs: CheckInputs) -> Check:
    try:
        found = verdict(inputs)
    except PgPulseError as exc:
        return Check(name, "error", None, None, str(exc), page)
    return Check(name, found.status, found.value, found.threshold, found.detail, page)


def health_checks(engine: sa.Engine, redis_client=None, *, groups: tuple[str, ...] = ALL_GROUPS,
                  **thresholds) -> pd.DataFrame:
    """The checks of the given groups as rows: check, status, value, threshold, detail, page, in the catalogue's
    order. Thresholds are Thresholds' fields (the Redis ones only matter with a client)."""
    from queries.catalogue import health_checks_declared  # the catalogue names these verdicts: import it late

    inputs = CheckInputs(engine, redis_client, Thresholds(**thresholds))
    rows = [_run(check.name, metric.page, check.verdict, inputs) for check, metric in health_checks_declared()
            if check.group(metric) in groups and (metric.source == "postgres" or redis_client is not None)]
    return pd.DataFrame([asdict(row) for row in rows], columns=[f.name for f in Check.__dataclass_fields__.values()])


def worst_first(checks: pd.DataFrame) -> pd.DataFrame:
    """Errors, then warnings, then passes; the catalogue's order within each."""
    if checks.empty:
        return checks
    return checks.sort_values("status", key=lambda status: status.map(STATUS_ORDER), kind="stable")
