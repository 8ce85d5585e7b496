"""`report --only fleet`: one row per configured target, from the store's fresh fleet figures (a collector is running)
or, for the targets without any, from one poll of every such server, concurrently (asyncpg), with the live checks."""
from __future__ import annotations

import asyncio
from datetime import UTC, datetime

import pandas as pd

from collector.fleet import FleetPoller
from queries.connection import make_engine
from queries.fleet import FleetFigures
from queries.history.fleet import fleet_overview

REPORT_COLUMNS = ["target", "reachable", "error", "server_version", "uptime_s", "transactions_per_s",
                  "average_active_sessions", "server_connections", "max_connections", "connection_ratio", "hit_ratio",
                  "replication_lag_s", "oldest_xact_age_s", "wraparound_ratio", "wraparound_age_xids", "failing_checks",
                  "failing_check_names", "figures_age_s", "source"]
FRESH_INTERVALS = 3  # stored figures count as fresh when checked within this many database intervals


def fleet_report(targets: dict[str, str], history_url: str | None, *, database_every_s: float = 10,
                 statement_timeout_ms: int = 5000, lock_timeout_ms: int = 1000) -> pd.DataFrame:
    """REPORT_COLUMNS per target in configuration order; `source` says 'store' or 'polled'."""
    stored = _stored(list(targets), history_url, FRESH_INTERVALS * database_every_s)
    missing = {name: url for name, url in targets.items() if name not in set(stored["target"])}
    polled = _polled(missing, statement_timeout_ms, lock_timeout_ms) if missing else pd.DataFrame(columns=REPORT_COLUMNS)
    frames = [frame for frame in (stored, polled) if not frame.empty]
    both = pd.concat(frames) if frames else pd.DataFrame(columns=REPORT_COLUMNS)
    order = {name: position for position, name in enumerate(targets)}
    return both.sort_values("target", key=lambda names: names.map(order))[REPORT_COLUMNS].reset_index(drop=True)


def _stored(names: list[str], history_url: str | None, fresh_s: float) -> pd.DataFrame:
    if not history_url:
        return pd.DataFrame(columns=REPORT_COLUMNS)
    store = make_engine(history_url, pool_size=1, application_name="pgpulse-report")
    try:
        frame = fleet_overview(store, names)
    finally:
        store.dispose()
    fresh = frame[frame["reachable"].notna() & (frame["checked_age_s"] <= fresh_s)]
    names_of = [";".join(item["check"] for item in listed) for listed in fresh["failing_check_list"]]
    return fresh.assign(failing_check_names=names_of, source="store")[REPORT_COLUMNS]


def _polled(targets: dict[str, str], statement_timeout_ms: int, lock_timeout_ms: int) -> pd.DataFrame:
    """One read per server, every server at once, and the live checks of each reachable target."""
    poller = FleetPoller(statement_timeout_ms / 1000, statement_timeout_ms=statement_timeout_ms,
                         lock_timeout_ms=lock_timeout_ms)

    async def poll() -> dict[str, FleetFigures]:
        try:
            await poller.poll_once(targets, groups=("live",))
            return dict(poller.latest)
        finally:
            await poller.close()

    latest = asyncio.run(poll())
    now = datetime.now(UTC)
    return pd.DataFrame([_row(latest[name], now) for name in targets], columns=REPORT_COLUMNS)


def _row(figures: FleetFigures, now: datetime) -> dict:
    checks = figures.live_checks
    used = (figures.server_connections / figures.max_connections
            if figures.max_connections and figures.server_connections is not None else None)
    started = figures.server_started_at if figures.reachable else None
    return {"target": figures.target, "reachable": figures.reachable, "error": figures.error,
            "server_version": figures.server_version,
            "uptime_s": (now - started).total_seconds() if started else None,
            "server_connections": figures.server_connections, "max_connections": figures.max_connections,
            "connection_ratio": used, "replication_lag_s": figures.replication_lag_s,
            "oldest_xact_age_s": figures.oldest_xact_age_s, "wraparound_ratio": figures.wraparound_ratio,
            "wraparound_age_xids": figures.wraparound_age_xids,
            "failing_checks": None if checks is None else len(checks),
            "failing_check_names": None if checks is None else ";".join(check.check for check in checks),
            "figures_age_s": (now - figures.read_at).total_seconds() if figures.read_at else None, "source": "polled"}
