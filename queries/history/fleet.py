"""The fleet in the store: the collector writes each target's latest FleetFigures (pgpulse.fleet_state); the Fleet page
and the fleet report read them with each target's transactions/s, cache hit ratio (database_delta) and average active
sessions (activity sampling), every figure with its age. Reading it costs the monitored servers nothing.
"""
from __future__ import annotations

import json
from dataclasses import asdict, fields
from datetime import UTC, datetime, timedelta

import pandas as pd
import sqlalchemy as sa

from queries.fleet import XID_LIMIT, FleetFigures
from queries.history._sql import store_sql
from queries.history.reads import _read

RATE_WINDOW_S = 300  # transactions/s, hit ratio and active sessions: over the last 5 minutes collected
TREND_S, TREND_POINTS = 3600, 30  # the trend: transactions/s over the last hour, in 2-minute buckets
FLEET_COLUMNS = ["target", "reachable", "error", "server_version", "uptime_s", "transactions_per_s",
                 "average_active_sessions", "server_connections", "max_connections", "connection_ratio", "hit_ratio",
                 "replication_lag_s", "oldest_xact_age_s", "wraparound_ratio", "wraparound_age_xids", "failing_checks",
                 "failing_check_list", "transactions_per_s_trend", "checked_age_s", "figures_age_s", "rates_age_s",
                 "load_age_s", "checks_age_s", "unreachable_for_s", "database_connections", "in_recovery"]


def write_fleet(conn: sa.Connection, latest: list[tuple[int, FleetFigures]]) -> None:
    """Store targets' latest figures (one row per target, replaced) in one transaction: (target id, figures) each."""
    conn.execute(store_sql("upsert_fleet_state"), [_fleet_row(target_id, figures) for target_id, figures in latest])
    conn.commit()


def _fleet_row(target_id: int, figures: FleetFigures) -> dict:
    row = {f.name: getattr(figures, f.name) for f in fields(FleetFigures) if f.name != "target"}
    for group in ("live_checks", "catalog_checks"):
        checks = row[group]
        row[group] = None if checks is None else json.dumps([asdict(check) for check in checks])
    return {"target_id": target_id, **row}


def fleet_overview(store: sa.Engine, names: list[str], *, window_s: int = RATE_WINDOW_S, trend_s: int = TREND_S,
                   trend_points: int = TREND_POINTS) -> pd.DataFrame:
    """One row per named target (FLEET_COLUMNS), worst first: unreachable, then by failing checks, then by name.
    A target the collector has not polled yet has reachable NaN. Ages are seconds before the store's clock."""
    if not names:
        return pd.DataFrame(columns=FLEET_COLUMNS)
    state = _read(store, "select_fleet_state", {"names": list(names)})
    now = state["store_now"].iloc[0].to_pydatetime() if len(state) else datetime.now(UTC)
    bucket_s = max(trend_s // trend_points, 1)
    rates = _read(store, "select_fleet_rates", {"names": list(names), "start": now - timedelta(seconds=trend_s),
                                                "bucket": timedelta(seconds=bucket_s)})
    load = _read(store, "select_fleet_load", {"names": list(names), "start": now - timedelta(seconds=window_s)})
    frame = pd.DataFrame({"target": list(names)}).merge(state.drop(columns="store_now"), on="target", how="left")
    frame = frame.merge(_current_rates(rates, now, window_s), on="target", how="left")
    frame = frame.merge(load, on="target", how="left")
    trends = _trends(rates, now, trend_s, bucket_s)
    return _shaped(frame, now, trends)


def _current_rates(rates: pd.DataFrame, now: datetime, window_s: int) -> pd.DataFrame:
    recent = rates[rates["bucket_start"] >= pd.Timestamp(now - timedelta(seconds=window_s))]
    if recent.empty:
        return pd.DataFrame(columns=["target", "transactions_per_s", "hit_ratio", "rates_at"])
    summed = recent.groupby("target").agg(covered_s=("covered_s", "sum"), transactions=("transactions", "sum"),
                                          blks_hit=("blks_hit", "sum"), blks_read=("blks_read", "sum"),
                                          rates_at=("last_at", "max")).reset_index()
    blocks = (summed["blks_hit"] + summed["blks_read"]).astype("float64")
    return summed.assign(transactions_per_s=summed["transactions"] / summed["covered_s"].where(summed["covered_s"] > 0),
                         hit_ratio=summed["blks_hit"] / blocks.where(blocks > 0))[
        ["target", "transactions_per_s", "hit_ratio", "rates_at"]]


def _trends(rates: pd.DataFrame, now: datetime, trend_s: int, bucket_s: int) -> dict[str, list[float | None]]:
    """Transactions/s per bucket over the trend's span, oldest first; None where nothing was collected."""
    origin = datetime(2000, 1, 1, tzinfo=UTC)
    first = origin + timedelta(seconds=((now - timedelta(seconds=trend_s)) - origin).total_seconds() // bucket_s * bucket_s)
    starts = pd.date_range(first, now, freq=f"{bucket_s}s", inclusive="left")
    per_s = rates.assign(tps=rates["transactions"] / rates["covered_s"].where(rates["covered_s"] > 0))
    wide = per_s.pivot_table(index="bucket_start", columns="target", values="tps", aggfunc="sum").reindex(starts)
    return {name: [None if pd.isna(value) else float(value) for value in wide[name].to_numpy()] for name in wide.columns}


def _age_s(moments: pd.Series, now: datetime) -> pd.Series:
    return (pd.Timestamp(now) - pd.to_datetime(moments, utc=True)).dt.total_seconds()


def _failing(row: pd.Series) -> list[dict]:
    found = []
    for group in ("live_checks", "catalog_checks"):
        value = row.get(group)
        if isinstance(value, str):
            value = json.loads(value)
        found.extend(value if isinstance(value, list) else [])
    return found


def _shaped(frame: pd.DataFrame, now: datetime, trends: dict) -> pd.DataFrame:
    failing = [_failing(row) for _, row in frame.iterrows()]
    checked = frame[["live_checks_at", "catalog_checks_at"]].apply(pd.to_datetime, utc=True).max(axis=1)
    judged = frame["live_checks_at"].notna() | frame["catalog_checks_at"].notna()
    reachable = frame["reachable"].astype("object")
    shaped = frame.assign(
        reachable=reachable,
        uptime_s=_age_s(frame["server_started_at"], now).where(reachable == True),  # noqa: E712 (NaN for never polled)
        connection_ratio=frame["server_connections"] / frame["max_connections"].where(frame["max_connections"] > 0),
        wraparound_ratio=frame["wraparound_age_xids"] / XID_LIMIT,
        failing_checks=[len(found) if was_judged else None for found, was_judged in zip(failing, judged, strict=True)],
        failing_check_list=failing,
        transactions_per_s_trend=[trends.get(name) for name in frame["target"]],
        checked_age_s=_age_s(frame["checked_at"], now), figures_age_s=_age_s(frame["read_at"], now),
        rates_age_s=_age_s(frame["rates_at"], now), load_age_s=_age_s(frame["load_at"], now),
        checks_age_s=_age_s(checked, now), unreachable_for_s=_age_s(frame["unreachable_since"], now))
    rank = shaped["reachable"].map({False: 0, True: 2}).fillna(1)
    shaped = shaped.assign(_rank=rank, _failing=shaped["failing_checks"].fillna(0))
    shaped = shaped.sort_values(["_rank", "_failing", "target"], ascending=[True, False, True], kind="stable")
    return shaped[FLEET_COLUMNS].reset_index(drop=True)
