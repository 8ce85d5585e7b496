"""/metrics for Prometheus: the collector's latest in-memory readings of every target it polls, named like
postgres_exporter's where it has the figure (so its dashboards and alerts work), pgpulse_* for the rest.

A custom prometheus_client Collector builds the families at each scrape from what the collector holds: nothing is
read from a server for a scrape, and a target the collector gave up (or no longer has) is gone from the next scrape.
Labels: target (the configured name) and server (host:port), never a URL or a password.
"""
from __future__ import annotations

import logging
import threading
from collections.abc import Iterable, Iterator
from dataclasses import dataclass

from prometheus_client import start_http_server
from prometheus_client.core import GaugeMetricFamily, Metric, UnknownMetricFamily
from prometheus_client.registry import Collector as PrometheusCollector
from prometheus_client.registry import CollectorRegistry

from collector import MetricsUnavailable
from collector.core import Collector, _Held
from queries.connection import describe_server
from queries.history.sampling import LOAD_KEYS
from queries.overview import DATABASE_COUNTER_COLUMNS

log = logging.getLogger("pgpulse.collector")
# the stored metrics whose latest snapshot /metrics shows (the collector keeps those in memory)
METRICS_READ = ("database_counters", "connection_states")
HEALTH_STATUS = {"pass": 0, "warn": 1, "error": 2}
_STATE, _DATABASE = LOAD_KEYS.index("state"), LOAD_KEYS.index("database_name")
_TARGET = ("target", "server")


@dataclass(frozen=True)
class Exported:
    """One metric family: its kind, its labels after target and server, and its help text (README: Prometheus)."""

    kind: str  # 'gauge', or 'untyped' for a cumulative counter named like postgres_exporter's (see _family)
    labels: tuple[str, ...]
    help: str


EXPORTED: dict[str, Exported] = {
    "pg_up": Exported("gauge", (), "Whether the last poll of the target reached it (1) or not (0)"),
    "pgpulse_last_poll_timestamp_seconds": Exported("gauge", (), "When a poll last reached the target (Unix time)"),
    **{f"pg_stat_database_{column}": Exported("untyped", ("datname",), f"pg_stat_database.{column} (cumulative)")
       for column in DATABASE_COUNTER_COLUMNS},
    "pg_stat_activity_count": Exported("gauge", ("datname", "state"), "Client backends of the database by state"),
    "pgpulse_average_active_sessions": Exported(
        "gauge", ("datname", "state"), "Non-idle client backends of the server, averaged over the last 10 s of samples"),
    "pg_replication_is_replica": Exported("gauge", (), "Whether the server is a standby (1) or a primary (0)"),
    "pg_replication_lag_seconds": Exported("gauge", (), "A standby's replay lag in seconds (0 when caught up, 0 on a primary)"),
    "pg_stat_replication_pg_wal_lsn_diff": Exported(
        "gauge", ("application_name", "client_addr"), "Bytes of WAL a standby has still to replay (pg_stat_replication)"),
    "pgpulse_standby_replay_lag_seconds": Exported(
        "gauge", ("application_name", "client_addr"), "A standby's replay lag in seconds (pg_stat_replication.replay_lag)"),
    "pg_replication_slots_active": Exported("gauge", ("slot_name", "database"), "Whether the slot is in use (1) or not (0)"),
    "pg_replication_slots_pg_wal_lsn_diff": Exported(
        "gauge", ("slot_name", "database"), "Bytes of WAL the slot keeps from removal (from its restart_lsn)"),
    "pg_database_wraparound_age_datfrozenxid_seconds": Exported(
        "gauge", ("datname",), "age(datfrozenxid) in transactions (postgres_exporter's name; not seconds)"),
    "pg_database_wraparound_age_datminmxid_seconds": Exported(
        "gauge", ("datname",), "mxid_age(datminmxid) in multixacts (postgres_exporter's name; not seconds)"),
    "pgpulse_health_check_status": Exported("gauge", ("check",), "A health check's verdict: 0 pass, 1 warn, 2 error"),
}


class _Families:
    """The families of one scrape, made on first use, in EXPORTED's order."""

    def __init__(self):
        self.made: dict[str, Metric] = {}

    def add(self, name: str, target: tuple[str, str], labels: tuple, value: float | None) -> None:
        if value is None:
            return
        if name not in self.made:
            exported = EXPORTED[name]
            # prometheus_client names a counter's samples <name>_total; postgres_exporter's counters have no suffix.
            # Untyped keeps their names, so existing dashboards and alerts find them (rate() works on it)
            family = GaugeMetricFamily if exported.kind == "gauge" else UnknownMetricFamily
            self.made[name] = family(name, exported.help, labels=[*_TARGET, *exported.labels])
        self.made[name].add_metric([*target, *("" if label is None else str(label) for label in labels)], float(value))

    def ordered(self) -> Iterator[Metric]:
        return (self.made[name] for name in EXPORTED if name in self.made)


class Latest(PrometheusCollector):
    """The families of every target the collector holds, from its latest readings."""

    def __init__(self, collector: Collector):
        self.collector = collector

    def collect(self) -> Iterable[Metric]:
        families = _Families()
        for name, held in list(self.collector.held.items()):
            target = self.collector.targets.get(name)
            if target is not None and held.up is not None:
                _add_target(families, (name, describe_server(target.database_url)), held)
        return families.ordered()


def _add_target(families: _Families, target: tuple[str, str], held: _Held) -> None:
    families.add("pg_up", target, (), 1 if held.up else 0)
    families.add("pgpulse_last_poll_timestamp_seconds", target, (), held.reached_at)
    if not held.up:  # as postgres_exporter: a server not reached has pg_up 0 and no stale figures
        return
    _add_database(families, target, held)
    _add_sessions(families, target, held)
    _add_server(families, target, held)


def _add_database(families: _Families, target: tuple[str, str], held: _Held) -> None:
    counters = held.latest.get("database_counters")
    datname = None
    for row in counters.rows if counters else ():
        datname = row["database_name"]
        for column in DATABASE_COUNTER_COLUMNS:
            families.add(f"pg_stat_database_{column}", target, (datname,), row[column])
    states = held.latest.get("connection_states")
    for row in states.rows if states and datname else ():  # both read the current database only
        families.add("pg_stat_activity_count", target, (datname, row["state"]), row["connections"])


def _add_sessions(families: _Families, target: tuple[str, str], held: _Held) -> None:
    bucket = held.last_bucket
    if bucket is None or not bucket.samples:
        return
    sampled: dict[tuple, int] = {}
    for key, count in bucket.load.items():
        by = (key[_DATABASE], key[_STATE])
        sampled[by] = sampled.get(by, 0) + count
    for (datname, state), count in sorted(sampled.items(), key=str):
        families.add("pgpulse_average_active_sessions", target, (datname, state), count / bucket.samples)


def _add_server(families: _Families, target: tuple[str, str], held: _Held) -> None:
    figures = held.figures
    if figures is None:
        return
    families.add("pg_replication_is_replica", target, (), int(figures.in_recovery))
    families.add("pg_replication_lag_seconds", target, (), figures.replay_lag_seconds)
    for row in figures.standbys:
        standby = (row["application_name"], row["client_addr"])
        families.add("pg_stat_replication_pg_wal_lsn_diff", target, standby, row["lag_bytes"])
        families.add("pgpulse_standby_replay_lag_seconds", target, standby, row["replay_lag_seconds"])
    for row in figures.slots:
        slot = (row["slot_name"], row["database"])
        families.add("pg_replication_slots_active", target, slot, int(bool(row["active"])))
        families.add("pg_replication_slots_pg_wal_lsn_diff", target, slot, row["retained_wal_bytes"])
    for row in figures.wraparound:
        families.add("pg_database_wraparound_age_datfrozenxid_seconds", target, (row["database_name"],), row["age_xids"])
        families.add("pg_database_wraparound_age_datminmxid_seconds", target, (row["database_name"],), row["mxid_age"])
    for check, status in figures.checks.items():
        families.add("pgpulse_health_check_status", target, (check,), HEALTH_STATUS[status])


class MetricsServer:
    """/metrics on host:port in a thread of its own (prometheus_client's server), until close()."""

    def __init__(self, collector: Collector, host: str, port: int):
        registry = CollectorRegistry(auto_describe=False)
        registry.register(Latest(collector))
        try:
            self.server, self.thread = start_http_server(port, addr=host, registry=registry)
        except OSError as exc:
            raise MetricsUnavailable(f"cannot serve /metrics on {host}:{port}: {exc.strerror or exc}") from None
        self.where = f"http://{host}:{port}/metrics"
        log.info("serving Prometheus metrics on %s", self.where)

    def close(self) -> None:
        self.server.shutdown()
        self.server.server_close()
        if isinstance(self.thread, threading.Thread):
            self.thread.join(timeout=5)
