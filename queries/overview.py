"""The Overview figures: version, uptime, size, connections, cache hit ratio, throughput."""
from __future__ import annotations

from dataclasses import dataclass, fields

import pandas as pd
import sqlalchemy as sa

from queries.connection import fetch_frame, fetch_row

# pg_stat_database's cumulative counters (select_database_counters): the collector keeps their deltas
DATABASE_COUNTER_COLUMNS = ("xact_commit", "xact_rollback", "blks_read", "blks_hit", "tup_returned", "tup_fetched",
                            "tup_inserted", "tup_updated", "tup_deleted", "temp_files", "temp_bytes", "deadlocks",
                            "conflicts")


@dataclass(frozen=True)
class ServerSummary:
    """One sample of the server and current database (pg_stat_database, pg_stat_activity)."""

    server_version: str
    server_version_num: int
    uptime_seconds: float
    database_name: str
    database_size_estimate_bytes: int  # from pg_class.relpages: as of the last VACUUM / ANALYZE
    connections_used: int
    max_connections: int
    superuser_reserved_connections: int
    blks_hit: int
    blks_read: int
    cache_hit_ratio: float | None
    transactions_total: int
    sampled_at_epoch: float

    @property
    def connection_usage_ratio(self) -> float:
        return self.connections_used / self.max_connections


def server_summary(engine: sa.Engine) -> ServerSummary:
    """Read one ServerSummary sample."""
    row = fetch_row(engine, "select_server_summary")
    return ServerSummary(**{field.name: row[field.name] for field in fields(ServerSummary)})


def transactions_per_second(previous: ServerSummary | None, current: ServerSummary) -> float | None:
    """Commits + rollbacks per second between two samples; None without a usable earlier one."""
    if previous is None:
        return None
    elapsed = current.sampled_at_epoch - previous.sampled_at_epoch
    done = current.transactions_total - previous.transactions_total
    if elapsed <= 0 or done < 0:  # same sample, or counters reset / server restarted
        return None
    return done / elapsed


def database_counters(engine: sa.Engine) -> pd.DataFrame:
    """The current database's cumulative counters from pg_stat_database: commits, rollbacks, blocks, tuples, temp, deadlocks."""
    return fetch_frame(engine, "select_database_counters")
