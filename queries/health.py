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


@dataclass(frozen=True)
class Check:
    check: str
    status: str  # 'pass', 'warn' or 'error'
    value: float | None
    threshold: float | None
    detail: str
    page: str  # the page that shows the rows behind the number


def _count_check(name: str, page: str, count: int, what: str, limit: int = 0) -> Check:
    status = "warn" if count > limit else "pass"
    return Check(name, status, float(count), float(limit), f"{count} {what}", page)


def _ratio_check(name: str, page: str, ratio: float | None, *, minimum: float | None = None,
                 maximum: float | None = None, what: str) -> Check:
    if ratio is None:
        return Check(name, "pass", None, minimum if minimum is not None else maximum, f"no data yet for {what}", page)
    bad = (minimum is not None and ratio < minimum) or (maximum is not None and ratio > maximum)
    limit = minimum if minimum is not None else maximum
    return Check(name, "warn" if bad else "pass", ratio, limit, f"{what}: {ratio:.1%} (limit {limit:.0%})", page)


def postgres_checks(engine: sa.Engine, *, long_query_s: int = 60, idle_in_transaction_s: int = 60,
                    max_connection_ratio: float = 0.8, min_cache_hit_ratio: float = 0.99,
                    max_wraparound_ratio: float = 0.5, max_overflow_ratio: float = 0.9,
                    slow_statement_ms: float = 1000.0) -> list[Callable[[], Check]]:
    """The PostgreSQL checks, each a thunk so one failure doesn't stop the rest."""
    role_status = functools.cache(lambda: statements.statements_status(engine))  # read once, for both checks
    return [
        lambda: _session_check(role_status, _count_check("Long-running queries", "activity", len(activity.long_running_queries(
            engine, min_seconds=long_query_s)), f"queries running longer than {long_query_s} s")),
        lambda: _session_check(role_status, _count_check("Idle in transaction", "activity", len(activity.idle_in_transaction(
            engine, min_seconds=idle_in_transaction_s)), f"sessions idle in transaction over {idle_in_transaction_s} s")),
        lambda: _ratio_check("Connection usage", "activity", activity.connection_usage(engine).usage_ratio,
                             maximum=max_connection_ratio, what="connections used of max_connections"),
        lambda: _ratio_check("Buffer cache hit ratio", "cache", cache.database_cache_hit(engine).hit_ratio,
                             minimum=min_cache_hit_ratio, what="blocks found in shared buffers"),
        lambda: _wraparound_check(engine, max_wraparound_ratio),
        lambda: _overflow_check(engine, max_overflow_ratio),
        lambda: _count_check("Invalid indexes", "indexes", len(indexes.invalid_indexes(engine)), "invalid indexes"),
        lambda: _count_check("Duplicate indexes", "indexes", len(indexes.duplicate_indexes(engine)),
                             "redundant indexes"),
        lambda: _count_check("Unused indexes", "indexes", indexes.unused_index_count(engine), "never-scanned indexes"),
        lambda: _slow_statement_check(engine, slow_statement_ms),
    ]


def _session_check(role_status: Callable[[], statements.StatementsStatus], check: Check) -> Check:
    """A role without pg_read_all_stats sees other roles' sessions without state or query: a count
    of 0 would then be a false 'pass', so say what it cannot see."""
    if check.status != "pass":
        return check
    status = role_status()
    if check.status != "pass" or status.can_read_all_stats:
        return check
    return Check(check.check, "warn", check.value, check.threshold,
                 f"{check.detail} of this role's own; other roles' sessions are hidden: "
                 f"GRANT pg_monitor TO {status.role_name}", check.page)


def _wraparound_check(engine: sa.Engine, max_ratio: float) -> Check:
    frame = maintenance.database_wraparound(engine)
    worst = float(frame["percent_towards_wraparound"].max()) / 100 if not frame.empty else None
    return _ratio_check("Transaction-ID wraparound", "maintenance", worst, maximum=max_ratio,
                        what="oldest database's way to wraparound")


def _overflow_check(engine: sa.Engine, max_ratio: float) -> Check:
    columns = maintenance.integer_column_overflow(engine, min_ratio=max_ratio)
    sequences = maintenance.sequence_overflow(engine, min_ratio=max_ratio)
    return _count_check("Sequence and integer overflow", "maintenance", len(columns) + len(sequences),
                        f"sequences or integer columns over {max_ratio:.0%} of their range")


def _slow_statement_check(engine: sa.Engine, slow_ms: float) -> Check:
    frame = statements.statements(engine, sort_by="mean_exec_time_ms", limit=1000)
    slow = frame[frame["mean_exec_time_ms"] >= slow_ms] if not frame.empty else frame
    return _count_check("Slow statements", "queries", len(slow), f"statements averaging over {slow_ms:.0f} ms")


def redis_checks(client, *, min_hit_ratio: float = 0.8, max_memory_ratio: float = 0.9) -> list[Callable[[], Check]]:
    return [
        lambda: _ratio_check("Redis hit ratio", "cache", redis_stats.redis_summary(client).hit_ratio,
                             minimum=min_hit_ratio, what="lookups that found their key"),
        lambda: _ratio_check("Redis memory", "cache", redis_stats.redis_summary(client).memory_usage_ratio,
                             maximum=max_memory_ratio, what="used memory of maxmemory"),
    ]


def _run(thunk: Callable[[], Check], name: str, page: str) -> Check:
    try:
        return thunk()
    except PgPulseError as exc:
        return Check(name, "error", None, None, str(exc), page)


CHECK_NAMES = ["Long-running queries", "Idle in transaction", "Connection usage", "Buffer cache hit ratio",
               "Transaction-ID wraparound", "Sequence and integer overflow", "Invalid indexes", "Duplicate indexes",
               "Unused indexes", "Slow statements"]
CHECK_PAGES = ["activity", "activity", "activity", "cache", "maintenance", "maintenance", "indexes", "indexes",
               "indexes", "queries"]
# 'live' checks read cheap views that change by the second; 'catalog' checks scan the catalog or
# pg_stat_statements and change slowly, so a dashboard can run them far less often
CHECK_GROUPS = ["live", "live", "live", "live", "catalog", "catalog", "catalog", "catalog", "catalog", "catalog"]
ALL_GROUPS = ("live", "catalog")


def health_checks(engine: sa.Engine, redis_client=None, *, groups: tuple[str, ...] = ALL_GROUPS,
                  **thresholds) -> pd.DataFrame:
    """The checks of the given groups as rows: check, status, value, threshold, detail, page."""
    pg_thresholds = {k: v for k, v in thresholds.items() if not k.startswith("redis_")}
    checks = zip(postgres_checks(engine, **pg_thresholds), CHECK_NAMES, CHECK_PAGES, CHECK_GROUPS, strict=True)
    rows = [_run(thunk, name, page) for thunk, name, page, group in checks if group in groups]
    if redis_client is not None and "live" in groups:
        rows += [_run(thunk, name, "cache") for thunk, name in
                 zip(redis_checks(redis_client), ["Redis hit ratio", "Redis memory"], strict=True)]
    return pd.DataFrame([asdict(row) for row in rows])
