"""Every metric pgpulse reads, declared once.

A declaration says what a metric is, not how a page lays it out: its read function, its pace, the page
that shows it, its report (CSV) name and arguments, the page's default arguments, the health checks
judged from it, its bench floor, and how the collector keeps it. The CLI's report list, the health
checks, the dashboard's cache, the shared-cache codec, the bench and the collector all read this module;
nothing else keeps a list of metrics.

Adding a metric: its SQL file, its read function, one `_declare(...)` here, and its panel on its page.
"""
from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType
from typing import Any, Literal

from queries import activity, cache, health, indexes, maintenance, overview, redis_stats, replication, settings, space, statements
from queries.advisors import drops, n_plus_one
from queries.advisors import indexes as index_advisor
from queries.advisors import statistics as statistics_advisor

# How often a metric is re-read, by name; the seconds come from the configuration (dashboard/config.py):
# live views every refresh; statistics, catalog checks and settings every stats_refresh_seconds; exact sizes
# every size_refresh_seconds. "status" and "sampling" are live reads that need not run faster than their floor.
Pace = Literal["live", "status", "sampling", "stats", "sizes"]
PACE_FLOOR_S: Mapping[str, int] = MappingProxyType({"status": 60, "sampling": 30})
Source = Literal["postgres", "redis"]


@dataclass(frozen=True)
class Stored:
    """How the collector keeps a metric: the SQL it runs (raw counters, not a page's ranked view), whether the
    values are counters (kept as deltas between consecutive snapshots of the same key), gauges (kept as read) or
    changes (kept only when an entry's values differ from the last ones stored: settings), the columns naming one
    entry, and the setting that paces it. A Redis metric (source "redis") has no SQL: the collector calls its read
    function, which returns one row."""

    sql: str | None
    kind: Literal["counter", "gauge", "changes"]
    keys: tuple[str, ...]
    values: tuple[str, ...]
    every_setting: str  # a Settings attribute, e.g. "history_statements_seconds"
    texts: tuple[str, ...] = ()  # stored once per key (a statement's text), masked
    # with texts: the SQL reading them for the keys the store lacks (:queryids), the main read then runs with
    # :with_text false, since reading every text on every collection is most of its cost
    texts_sql: str | None = None
    # a column that changes when the entry's counters started again (an evicted statement's stats_since on 17+,
    # a database's stats_reset): the current value is then the delta
    since: str | None = None
    gauges: tuple[str, ...] = ()  # counters: columns kept as read beside the deltas (a row every collection)
    # a gauge that rarely moves (sizes): a row only for an entry whose values changed, every entry once a UTC day
    changes_only: bool = False
    # columns stored once per key, not per collection (a relation's names): the store upserts them from the rows written
    names: tuple[str, ...] = ()
    # each collection noted in metric_collection, for metrics whose idle entries write no row (a quiet interval is
    # not a gap)
    collections: bool = False
    # read instead when the main read is cancelled by the statement or lock timeout (the collector's): estimates
    # where exact figures cost too much (a big catalog's sizes on a new connection) or wait on a migration's lock
    fallback_sql: str | None = None


@dataclass(frozen=True)
class HealthCheck:
    """A pass / warn verdict judged from a metric; its page is the metric's. `verdict` takes a health.CheckInputs."""

    name: str
    verdict: Callable[[health.CheckInputs], health.Verdict]
    pace: Pace | None = None  # default: the metric's

    def group(self, metric: Metric) -> str:
        """'live' checks read views that change by the second; 'catalog' ones run at the statistics pace."""
        return "live" if (self.pace or metric.pace) in ("live", "status", "sampling") else "catalog"


@dataclass(frozen=True)
class Metric:
    name: str  # its report and CSV name
    read: Callable[..., Any]  # queries.<module>.<function>(engine or redis client, **arguments)
    pace: Pace
    page: str | None  # url path of the page that shows it (dashboard/navigation.py)
    source: Source = "postgres"
    defaults: Mapping[str, Any] = field(default_factory=dict)  # the page's default view
    report: Mapping[str, Any] | None = None  # arguments for the CSV report; None: no report
    checks: tuple[HealthCheck, ...] = ()
    floor: tuple[str, ...] = ()  # bench/run.py FLOOR_SQL names: the cheapest reads of the same rows
    stored: Stored | None = None
    summary_type: type | None = None  # the frozen dataclass it returns, if not a DataFrame (shared-cache codec)
    # when its page reads it: on first paint, filled in after, or never (a report or the collector reads it)
    painted: Literal["first", "after", "no"] = "first"

    @property
    def reported(self) -> bool:
        return self.report is not None


METRICS: dict[str, Metric] = {}


def _declare(name: str, read: Callable, pace: Pace, page: str | None, **facts: Any) -> Metric:
    if name in METRICS:
        raise ValueError(f"metric {name!r} is declared twice")
    METRICS[name] = metric = Metric(name, read, pace, page, **facts)
    return metric


def metric(name: str) -> Metric:
    try:
        return METRICS[name]
    except KeyError:
        raise KeyError(f"no metric named {name!r} in queries/catalogue.py") from None


def metric_of(read: Callable) -> Metric:
    """The declaration of a read function (how the dashboard finds a page's call)."""
    for declared in METRICS.values():
        if declared.read is read:
            return declared
    raise KeyError(f"{getattr(read, '__qualname__', read)} is not declared in queries/catalogue.py")


def reports(source: Source | None = None) -> list[Metric]:
    return [m for m in METRICS.values() if m.reported and (source is None or m.source == source)]


def stored_metrics() -> list[Metric]:
    return [m for m in METRICS.values() if m.stored is not None]


def health_checks_declared(source: Source | None = None) -> list[tuple[HealthCheck, Metric]]:
    """Every health check with the metric it judges, in the order the Overview lists them."""
    return [(check, m) for m in METRICS.values() for check in m.checks if source is None or m.source == source]


def summary_types() -> dict[str, type]:
    """The only non-frame types the shared cache rebuilds (never pickle)."""
    return {m.summary_type.__name__: m.summary_type for m in METRICS.values() if m.summary_type is not None}


UNLIMITED = 1_000_000  # a report's row limit: every row

# ---- Overview and Queries -----------------------------------------------------------------------------------------
_declare("server_summary", overview.server_summary, "live", "overview", floor=("pg_class", "pg_stat_activity"),
         summary_type=overview.ServerSummary)
_declare("statements_status", statements.statements_status, "status", "overview", summary_type=statements.StatementsStatus)
# The Queries page's default view. The Overview's top 5 are its first rows: asking with the same arguments
# makes both pages share one pg_stat_statements read per interval.
_declare("statements", statements.statements, "live", "queries",
         defaults={"sort_by": "total_exec_time_ms", "user": None, "min_calls": 0, "text": None, "limit": 100,
                   "include_nested": False, "include_own": False, "route": None},
         report={"limit": UNLIMITED, "include_nested": True}, floor=("pg_stat_statements",),
         checks=(HealthCheck("Slow statements", health.slow_statements, pace="stats"),
                 HealthCheck("Statement dominating the time", health.dominant_statement, pace="stats")),
         stored=Stored("select_statement_counters", "counter", keys=("dbid", "userid", "queryid", "toplevel"),
                       values=statements.COUNTER_COLUMNS, every_setting="history_statements_seconds", texts=("query",),
                       texts_sql="select_statement_texts",
                       since="stats_since"))
_declare("n_plus_one", n_plus_one.n_plus_one, "stats", "queries", report={},
         checks=(HealthCheck("N+1 query patterns", health.n_plus_one_patterns),))
_declare("database_counters", overview.database_counters, "live", "overview", report={}, painted="no",
         stored=Stored("select_database_counters", "counter", keys=("datid",), values=overview.DATABASE_COUNTER_COLUMNS,
                       every_setting="history_database_seconds", since="stats_reset"))
_declare("connection_states", activity.connection_states, "live", "activity", report={}, painted="no",
         stored=Stored("select_connection_states", "gauge", keys=("datid", "state"), values=("connections",),
                       every_setting="history_database_seconds"))

# ---- Activity -----------------------------------------------------------------------------------------------------
# The page is one read: one pg_stat_activity snapshot in one transaction, every panel derived from it.
_declare("activity_snapshot", activity.activity_snapshot, "live", "activity", defaults={"min_seconds": 60},
         floor=("pg_stat_activity",), summary_type=activity.ActivitySnapshot,
         checks=(HealthCheck("Long-running queries", health.long_running_queries),
                 HealthCheck("Idle in transaction", health.idle_in_transaction),
                 HealthCheck("Blocked sessions", health.blocked_sessions),
                 HealthCheck("Connection usage", health.connection_usage)))
# The snapshot's parts as standalone reads, for the reports and the checks (derived the same way)
_declare("activity", activity.activity, "live", "activity", report={"limit": UNLIMITED}, painted="no")
_declare("blocking", activity.blocking_tree, "live", "activity", report={}, painted="no")
_declare("wait_events", activity.wait_events, "live", "activity", report={}, painted="no")

# ---- Space --------------------------------------------------------------------------------------------------------
# The page paints estimates first and fills in exact sizes after.
_declare("table_size_estimates", space.table_size_estimates, "sizes", "space", floor=("pg_class", "pg_index"))
_declare("table_sizes", space.table_sizes, "sizes", "space", painted="after", report={"limit": UNLIMITED},
         floor=("pg_relation_size",))
_declare("database_sizes", space.database_sizes, "sizes", "space", painted="after", report={})
_declare("index_sizes", space.index_sizes, "sizes", "space", painted="after", report={"limit": UNLIMITED})
# For growth over a range (the collector's): each table's and index's exact bytes, stored when they changed
_declare("relation_sizes", space.relation_sizes, "sizes", "space", painted="no",
         stored=Stored("select_relation_sizes", "gauge", keys=("relid",), values=("size_bytes",),
                       every_setting="history_sizes_seconds", changes_only=True, collections=True,
                       fallback_sql="select_relation_size_estimates",
                       names=("kind", "schema_name", "relation_name", "table_name", "droppable")))
_declare("database_size", space.database_size, "sizes", "space", painted="no",
         stored=Stored("select_database_size", "gauge", keys=("datid",), values=("size_bytes",),
                       every_setting="history_sizes_seconds"))

# ---- Indexes ------------------------------------------------------------------------------------------------------
_declare("unused_indexes", indexes.unused_indexes, "stats", "indexes", defaults={"max_scans": 0},
         report={"limit": UNLIMITED}, floor=("index_scans",),
         checks=(HealthCheck("Unused indexes", health.unused_indexes),))
# For scans over a range (the collector's): "unused in the last 7 days", not "since a reset nobody remembers"
_declare("index_scans", indexes.index_scans, "stats", "indexes", painted="no",
         stored=Stored("select_index_scans", "counter", keys=("relid",), values=("idx_scan",),
                       every_setting="history_index_scans_seconds", since="stats_reset", collections=True))
_declare("duplicate_indexes", indexes.duplicate_indexes, "stats", "indexes", report={"limit": UNLIMITED},
         checks=(HealthCheck("Duplicate indexes", health.duplicate_indexes),))
_declare("invalid_indexes", indexes.invalid_indexes, "stats", "indexes", report={},
         checks=(HealthCheck("Invalid indexes", health.invalid_indexes),))
_declare("seq_scan_tables", indexes.seq_scan_tables, "stats", "indexes", defaults={"min_rows": 10_000}, report={},
         floor=("table_scans",))
_declare("suggested_indexes", index_advisor.suggested_indexes, "stats", "indexes", report={},
         checks=(HealthCheck("Missing indexes", health.missing_indexes),))
# what-if drop needs HypoPG 1.4+ (hypopg_hide_index): the status says so in one line when it is missing
_declare("hypopg_status", drops.hypopg_status, "stats", "indexes", summary_type=drops.HypoPGStatus)
_declare("what_if_drop", drops.what_if_drop, "stats", "indexes", report={})
_declare("index_hit_ratio", indexes.index_hit_ratio, "stats", "indexes")
_declare("index_hit_rates", indexes.index_hit_rates, "stats", "indexes", report={"limit": UNLIMITED},
         floor=("index_blocks",))

# ---- Maintenance --------------------------------------------------------------------------------------------------
_declare("autovacuum_due", maintenance.tables_past_autovacuum_threshold, "stats", "maintenance", report={})
_declare("maintenance", maintenance.vacuum_stats, "stats", "maintenance", report={"limit": UNLIMITED},
         floor=("table_vacuum",))
_declare("stale_statistics", statistics_advisor.stale_statistics, "stats", "maintenance", report={},
         checks=(HealthCheck("Stale statistics", health.stale_statistics),))
_declare("wraparound", maintenance.database_wraparound, "stats", "maintenance", report={}, floor=("pg_class",),
         checks=(HealthCheck("Transaction-ID wraparound", health.wraparound),))
_declare("table_wraparound", maintenance.table_wraparound, "stats", "maintenance", report={"limit": UNLIMITED})
_declare("sequences", maintenance.sequence_overflow, "stats", "maintenance", defaults={"min_ratio": 0.9},
         report={"limit": UNLIMITED}, checks=(HealthCheck("Sequence and integer overflow", health.overflow),))
_declare("integer_overflow", maintenance.integer_column_overflow, "stats", "maintenance", defaults={"min_ratio": 0.9},
         report={"limit": UNLIMITED})

# ---- Replication and WAL ----------------------------------------------------------------------------------------
# Server-wide, the same from every database of a server. The summary says primary or standby, and so which panels show.
_declare("replication_summary", replication.replication_summary, "live", "replication",
         summary_type=replication.ReplicationSummary)
_declare("replication", replication.standbys, "live", "replication", report={},
         checks=(HealthCheck("Replication lag", health.replication_lag),))
_declare("replication_slots", replication.replication_slots, "live", "replication", report={},
         checks=(HealthCheck("Inactive replication slots", health.stale_replication_slots),))
_declare("wal_receiver", replication.wal_receiver, "live", "replication", report={})
_declare("archiver", replication.archiver, "stats", "replication", summary_type=replication.ArchiverStatus,
         checks=(HealthCheck("WAL archiving", health.failing_archiver),))
_declare("checkpoints", replication.checkpoints, "stats", "replication", summary_type=replication.Checkpoints)

# ---- Cache --------------------------------------------------------------------------------------------------------
_declare("database_cache_hit", cache.database_cache_hit, "live", "cache", summary_type=cache.CacheSample,
         checks=(HealthCheck("Buffer cache hit ratio", health.buffer_cache_hit_ratio),))
_declare("table_cache_hit", cache.table_cache_hit, "stats", "cache", report={"limit": UNLIMITED}, floor=("table_blocks",))
_declare("index_cache_hit", cache.index_cache_hit, "stats", "cache", report={"limit": UNLIMITED}, floor=("index_blocks",))
_declare("redis_summary", redis_stats.redis_summary, "live", "cache", source="redis", summary_type=redis_stats.RedisSummary,
         checks=(HealthCheck("Redis hit ratio", health.redis_hit_ratio), HealthCheck("Redis memory", health.redis_memory)))
_declare("redis_info", redis_stats.redis_info, "live", "cache", source="redis", report={})
_declare("redis_keyspace", redis_stats.keyspace, "live", "cache", source="redis", report={})
_declare("redis_namespaces", redis_stats.key_namespaces, "sampling", "cache", source="redis", report={})
_declare("redis_commandstats", redis_stats.commandstats, "live", "cache", source="redis", report={})
_declare("redis_slowlog", redis_stats.slowlog, "live", "cache", source="redis", report={})
# INFO's counters for the history: hits, misses, evictions, commands as deltas (a restart is told by started_at, a
# CONFIG RESETSTAT by a counter going down); memory and clients as read
_declare("redis_counters", redis_stats.redis_counters, "live", "cache", source="redis", painted="no",
         stored=Stored(None, "counter", keys=(), values=redis_stats.COUNTER_COLUMNS, gauges=redis_stats.GAUGE_COLUMNS,
                       every_setting="history_redis_seconds", since="started_at"))

# ---- Settings -----------------------------------------------------------------------------------------------------
_declare("settings", settings.performance_settings, "stats", "settings", report={}, floor=("pg_settings",),
         stored=Stored("select_setting_values", "changes", keys=("name",), values=("value", "pending_restart"),
                       every_setting="history_settings_seconds"))
