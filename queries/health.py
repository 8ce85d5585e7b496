"""Health checks for the Overview: pass / warn with the number behind each and the page to open.

Each check runs on its own: one that can't be had (missing privilege, Redis down) is reported
as 'error' with its reason and the others still run.
"""
from __future__ import annotations

import functools
from collections.abc import Callable
from dataclasses import asdict, dataclass

import pandas as pd
import sqlalchemy as sa

from queries import activity, cache, indexes, maintenance, redis_stats, statements
from queries.errors import PgPulseError

# name -> (page that shows the rows behind it, group), in the order the Overview lists them.
# 'live' checks read cheap views that change by the second; 'catalog' checks scan the catalog or
# pg_stat_statements and change slowly, so a dashboard can run them far less often
POSTGRES_CHECKS = {
    "Long-running queries": ("activity", "live"),
    "Idle in transaction": ("activity", "live"),
    "Connection usage": ("activity", "live"),
    "Buffer cache hit ratio": ("cache", "live"),
    "Transaction-ID wraparound": ("maintenance", "catalog"),
    "Sequence and integer overflow": ("maintenance", "catalog"),
    "Invalid indexes": ("indexes", "catalog"),
    "Duplicate indexes": ("indexes", "catalog"),
    "Unused indexes": ("indexes", "catalog"),
    "Slow statements": ("queries", "catalog"),
}
REDIS_CHECKS = {"Redis hit ratio": ("cache", "live"), "Redis memory": ("cache", "live")}
CHECKS = {**POSTGRES_CHECKS, **REDIS_CHECKS}
ALL_GROUPS = ("live", "catalog")


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
    """What one check found; its name and page come from CHECKS."""

    status: str
    value: float | None
    threshold: float | None
    detail: str


def _count_verdict(count: int, what: str, limit: int = 0) -> Verdict:
    return Verdict("warn" if count > limit else "pass", float(count), float(limit), f"{count} {what}")


def _ratio_verdict(ratio: float | None, *, minimum: float | None = None, maximum: float | None = None,
                   what: str) -> Verdict:
    limit = minimum if minimum is not None else maximum
    if ratio is None:
        return Verdict("pass", None, limit, f"no data yet for {what}")
    bad = (minimum is not None and ratio < minimum) or (maximum is not None and ratio > maximum)
    return Verdict("warn" if bad else "pass", ratio, limit, f"{what}: {ratio:.1%} (limit {limit:.0%})")


def postgres_verdicts(engine: sa.Engine, *, long_query_s: int = 60, idle_in_transaction_s: int = 60,
                      max_connection_ratio: float = 0.8, min_cache_hit_ratio: float = 0.99,
                      max_wraparound_ratio: float = 0.5, max_overflow_ratio: float = 0.9,
                      slow_statement_ms: float = 1000.0) -> dict[str, Callable[[], Verdict]]:
    """The PostgreSQL checks by name, each a thunk so one failure doesn't stop the rest."""
    # the three session checks and their role check read one transaction (one pg_stat_activity snapshot),
    # read once; it holds no pg_stat_statements read, whose failure would abort it. A failed read is not
    # cached: each check then reports it, as each did with a query of its own
    sessions = functools.cache(lambda: activity.session_counts(
        engine, min_seconds=long_query_s, idle_min_seconds=idle_in_transaction_s))
    return {
        "Long-running queries": lambda: _session_verdict(sessions, _count_verdict(
            sessions().long_running_queries, f"queries running longer than {long_query_s} s")),
        "Idle in transaction": lambda: _session_verdict(sessions, _count_verdict(
            sessions().idle_in_transaction, f"sessions idle in transaction over {idle_in_transaction_s} s")),
        "Connection usage": lambda: _ratio_verdict(sessions().usage.usage_ratio, maximum=max_connection_ratio,
                                                   what="connections used of max_connections"),
        "Buffer cache hit ratio": lambda: _ratio_verdict(cache.database_cache_hit(engine).hit_ratio,
                                                         minimum=min_cache_hit_ratio,
                                                         what="blocks found in shared buffers"),
        "Transaction-ID wraparound": lambda: _wraparound_verdict(engine, max_wraparound_ratio),
        "Sequence and integer overflow": lambda: _overflow_verdict(engine, max_overflow_ratio),
        "Invalid indexes": lambda: _count_verdict(len(indexes.invalid_indexes(engine)), "invalid indexes"),
        "Duplicate indexes": lambda: _count_verdict(len(indexes.duplicate_indexes(engine)), "redundant indexes"),
        "Unused indexes": lambda: _count_verdict(indexes.unused_index_count(engine), "never-scanned indexes"),
        "Slow statements": lambda: _slow_statement_verdict(engine, slow_statement_ms),
    }


def _session_verdict(role_status: Callable[[], activity.SessionCounts], verdict: Verdict) -> Verdict:
    """A role without pg_read_all_stats sees other roles' sessions without state or query: a count
    of 0 would then be a false 'pass', so say what it cannot see."""
    if verdict.status != "pass":
        return verdict
    status = role_status()
    if status.can_read_all_stats:
        return verdict
    return Verdict("warn", verdict.value, verdict.threshold,
                   f"{verdict.detail} of this role's own; other roles' sessions are hidden: "
                   f"GRANT pg_monitor TO {status.role_name}")


def _wraparound_verdict(engine: sa.Engine, max_ratio: float) -> Verdict:
    frame = maintenance.database_wraparound(engine)
    worst = float(frame["percent_towards_wraparound"].max()) / 100 if not frame.empty else None
    return _ratio_verdict(worst, maximum=max_ratio, what="oldest database's way to wraparound")


def _overflow_verdict(engine: sa.Engine, max_ratio: float) -> Verdict:
    columns = maintenance.integer_column_overflow(engine, min_ratio=max_ratio)
    sequences = maintenance.sequence_overflow(engine, min_ratio=max_ratio)
    return _count_verdict(len(columns) + len(sequences), f"sequences or integer columns over {max_ratio:.0%} of their range")


def _slow_statement_verdict(engine: sa.Engine, slow_ms: float) -> Verdict:
    frame = statements.statements(engine, sort_by="mean_exec_time_ms", limit=1000)
    slow = frame[frame["mean_exec_time_ms"] >= slow_ms] if not frame.empty else frame
    return _count_verdict(len(slow), f"statements averaging over {slow_ms:.0f} ms")


def redis_verdicts(client, *, min_hit_ratio: float = 0.8, max_memory_ratio: float = 0.9
                   ) -> dict[str, Callable[[], Verdict]]:
    """The Redis checks by name; both read one INFO."""
    summary = functools.cache(lambda: redis_stats.redis_summary(client))
    return {
        "Redis hit ratio": lambda: _ratio_verdict(summary().hit_ratio, minimum=min_hit_ratio,
                                                  what="lookups that found their key"),
        "Redis memory": lambda: _ratio_verdict(summary().memory_usage_ratio, maximum=max_memory_ratio,
                                               what="used memory of maxmemory"),
    }


def _run(name: str, thunk: Callable[[], Verdict]) -> Check:
    page = CHECKS[name][0]
    try:
        verdict = thunk()
    except PgPulseError as exc:
        return Check(name, "error", None, None, str(exc), page)
    return Check(name, verdict.status, verdict.value, verdict.threshold, verdict.detail, page)


def health_checks(engine: sa.Engine, redis_client=None, *, groups: tuple[str, ...] = ALL_GROUPS,
                  **thresholds) -> pd.DataFrame:
    """The checks of the given groups as rows: check, status, value, threshold, detail, page.
    Thresholds are postgres_verdicts' keywords, and redis_verdicts' with a redis_ prefix."""
    pg_thresholds = {key: value for key, value in thresholds.items() if not key.startswith("redis_")}
    redis_thresholds = {key.removeprefix("redis_"): value for key, value in thresholds.items()
                        if key.startswith("redis_")}
    thunks = postgres_verdicts(engine, **pg_thresholds)
    if redis_client is not None:
        thunks |= redis_verdicts(redis_client, **redis_thresholds)
    rows = [_run(name, thunks[name]) for name, (_, group) in CHECKS.items() if name in thunks and group in groups]
    return pd.DataFrame([asdict(row) for row in rows])
