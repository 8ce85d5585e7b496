"""Headless pgpulse: `python -m dashboard report --out DIR [--database-url URL]`,
`python -m dashboard explain [--analyze] [--json] "SQL"` and `python -m dashboard collect [--once]` (history).

Writes one CSV per report from the same queries functions the pages use.  A report that
can't be had is named on stderr with its reason; the others are still written.
"""
from __future__ import annotations

import argparse
import json
import os
import re
import sys
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dashboard.config import ConfigError, load_settings
from demo.state import running_demo_urls
from queries import catalogue, redis_stats
from queries.connection import describe_target, make_engine, server_version_num
from queries.errors import PgPulseError
from queries.explain import ExplainOptions, explain
from queries.health import health_checks
from queries.history import load as history_load
from queries.history import reads as history_reads
from queries.history import sizes as history_sizes
from queries.history.redis_history import redis_series
from queries.history.settings_history import setting_changes
from queries.plan import flagged_nodes


class CliError(Exception):
    """Exit with this message and a non-zero status."""


def _urls(args: argparse.Namespace) -> tuple[str, str | None]:
    """The database URL and the Redis URL (or None) from the flags, else the configuration, else the running
    `make run` demo; --redis-url, else REDIS_URL, names Redis whichever way the database was named."""
    redis_url = getattr(args, "redis_url", None) or os.environ.get("REDIS_URL") or None
    if args.database_url:
        return args.database_url, redis_url
    target = _settings().target(args.target)
    if target is not None:
        return target.database_url, redis_url or target.redis_url
    demo = running_demo_urls()
    if demo is None:
        raise CliError("no database to report on: pass --database-url URL, set DATABASE_URL, or start the demo with `make run`")
    return demo[0], redis_url or demo[1]


def _write(name: str, produce: Callable[[], pd.DataFrame], out_dir: Path, written: list, failed: dict) -> None:
    try:
        frame = produce()
    except PgPulseError as exc:
        failed[name] = str(exc)
        return
    path = out_dir / f"{name}.csv"
    frame.to_csv(path, index=False)
    written.append(path)


def report_names(with_redis: bool = True) -> list[str]:
    """Every report the catalogue declares (PostgreSQL's, health, and Redis's when a Redis is known)."""
    return [*[m.name for m in catalogue.reports("postgres")], "health",
            *([m.name for m in catalogue.reports("redis")] if with_redis else [])]


def _produce(name: str, engine: sa.Engine, redis_client) -> pd.DataFrame:
    if name == "health":
        return health_checks(engine, redis_client)
    declared = catalogue.metric(name)
    if declared.source == "redis":
        if redis_client is None:
            raise PgPulseError("no Redis URL: pass --redis-url or set REDIS_URL")
        return declared.read(redis_client, **declared.report)
    return declared.read(engine, **declared.report)


def write_reports(engine: sa.Engine, out_dir: Path, names: list[str], redis_client=None
                  ) -> tuple[list[Path], dict[str, str]]:
    """Write each named report; return the files written and the reasons for those that failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written, failed = [], {}
    for name in names:
        _write(name, lambda name=name: _produce(name, engine, redis_client), out_dir, written, failed)
    return written, failed


def _redis_client(redis_url: str | None):
    if not redis_url:
        return None
    try:
        return redis_stats.connect(redis_url)
    except PgPulseError as exc:
        raise CliError(f"Redis: {exc}") from None


_SPAN = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(s|sec|min|m|h|d|w)\s*$", re.IGNORECASE)
_SPAN_SECONDS = {"s": 1, "sec": 1, "m": 60, "min": 60, "h": 3600, "d": 86400, "w": 7 * 86400}


def parse_span(text: str) -> timedelta:
    """'15min', '1h', '7d', '90s' as a timedelta."""
    match = _SPAN.match(text)
    if not match:
        raise CliError(f"--since {text!r}: write a number and a unit, e.g. 15min, 1h, 24h, 7d")
    return timedelta(seconds=float(match[1]) * _SPAN_SECONDS[match[2].lower()])


def parse_time(text: str, flag: str) -> datetime:
    """An ISO time; without a zone it is UTC."""
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise CliError(f"{flag} {text!r} is not an ISO time, e.g. 2026-12-01T14:05 or 2026-12-01T14:05+01:00") from None
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def report_range(args: argparse.Namespace) -> tuple[datetime, datetime] | None:
    """The range of --since or --from / --to (to: now when left out), or None for "since the last reset"."""
    if args.since and (args.from_time or args.to_time):
        raise CliError("give either --since or --from / --to, not both")
    now = datetime.now(UTC)
    if args.since:
        return now - parse_span(args.since), now
    if not (args.from_time or args.to_time):
        return None
    if not args.from_time:
        raise CliError("--to needs --from")
    start, end = parse_time(args.from_time, "--from"), parse_time(args.to_time, "--to") if args.to_time else now
    if end <= start:
        raise CliError(f"--to ({end.isoformat()}) is not after --from ({start.isoformat()})")
    return start, end


# the reports with history: name -> the store's range read (store, target, start, end)
RANGE_REPORTS = {
    "statements": lambda store, target, start, end: history_reads.statements_over_range(
        store, target, start, end, limit=catalogue.UNLIMITED, include_nested=True),
    "database_counters": history_reads.database_series,
    "setting_changes": setting_changes,
    "redis_history": redis_series,
    # active session sampling: average active sessions per bucket by wait event type, and every sampled lock wait
    "database_load": history_load.database_load,
    "lock_waits": history_load.lock_waits,
}
RANGE_REPORTS["table_growth"] = history_sizes.table_growth  # tables and indexes by growth over the range


def range_report(args: argparse.Namespace, start: datetime, end: datetime) -> int:
    """The RANGE_REPORTS over [start, end) as CSV files, from the history store, never the server."""
    history_url = args.history_url or _settings().history_url
    if not history_url:
        raise CliError("--since / --from need the history store: pass --history-url URL or set PGPULSE_HISTORY_URL")
    unknown = sorted(set(args.only or ()) - set(RANGE_REPORTS))
    if unknown:
        raise CliError(f"over a time range only {', '.join(RANGE_REPORTS)} can be written, not {', '.join(unknown)}")
    target = _target_name(args)
    try:
        store = make_engine(history_url, pool_size=1)
        server_version_num(store)  # an unreachable store is one clear line, not one per report
    except PgPulseError as exc:
        raise CliError(f"history store: {exc}") from None
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, failed = [], {}
    for name in args.only or RANGE_REPORTS:
        _write(name, lambda name=name: RANGE_REPORTS[name](store, target, start, end), out_dir, written, failed)
    return _summary(written, failed, f"{target} in the history store, {start:%Y-%m-%d %H:%M} to {end:%Y-%m-%d %H:%M} UTC")


def _settings():
    """The configuration, or a one-line CliError naming what is wrong in it."""
    try:
        return load_settings()
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from None


def _target_name(args: argparse.Namespace) -> str:
    """The name history is stored under: --target, else the configured target's, else "default" (the collector's)."""
    if args.target or args.database_url:
        return args.target or "default"
    target = _settings().target(None)
    return target.name if target else "default"


def _summary(written: list[Path], failed: dict[str, str], source: str) -> int:
    for path in written:
        print(f"wrote {path}")
    for name, reason in failed.items():
        print(f"{name}: not written: {reason}", file=sys.stderr)
    print(f"{len(written)} of {len(written) + len(failed)} reports from {source}")
    return 1 if failed else 0


FLEET_REPORT = "fleet"  # every configured target in one file: not one target's metric


def _fleet_targets(settings) -> dict[str, str]:
    """{name: URL} of every configured target, the server entries' databases listed now (a server that cannot be
    listed: itself, so its row says why)."""
    from queries.discovery import listed_targets

    targets = {target.name: target.database_url for target in settings.targets}
    for server in settings.servers:
        engine = make_engine(server.database_url, pool_size=1)
        try:
            targets.update(listed_targets(engine, server.name, server.database_url, include=server.include,
                                          exclude=server.exclude))
        except PgPulseError:
            targets[server.name] = server.database_url
        finally:
            engine.dispose()
    return targets


def fleet_report_command(args: argparse.Namespace) -> int:
    """fleet.csv: one row per configured target (collector/fleet_report.py)."""
    from collector.fleet_report import fleet_report

    settings = _settings()
    if not settings.targets and not settings.servers:
        raise CliError("no targets configured: set PGPULSE_TARGETS or add [targets.NAME] tables to secrets.toml")
    out_dir = Path(args.out)
    out_dir.mkdir(parents=True, exist_ok=True)
    written, failed = [], {}
    _write(FLEET_REPORT, lambda: fleet_report(
        _fleet_targets(settings), args.history_url or settings.history_url,
        database_every_s=settings.history_database_seconds, statement_timeout_ms=settings.statement_timeout_ms,
        lock_timeout_ms=settings.lock_timeout_ms), out_dir, written, failed)
    return _summary(written, failed, f"{len(settings.targets)} configured targets")


def report(args: argparse.Namespace) -> int:
    span = report_range(args)
    if span:
        return range_report(args, *span)
    if args.only and FLEET_REPORT in args.only:
        if len(args.only) > 1:
            raise CliError("--only fleet covers every configured target: write it on its own, the other reports per target")
        return fleet_report_command(args)
    range_only = sorted(set(args.only or ()) - set(report_names()))
    if range_only:
        raise CliError(f"{', '.join(range_only)} come from the history store: add --since SPAN or --from TIME")
    url, redis_url = _urls(args)
    try:
        engine = make_engine(url, pool_size=1)
        server_version_num(engine)  # fail early and clearly: unreachable, auth, version < 14
    except PgPulseError as exc:
        raise CliError(str(exc)) from None
    names = args.only or report_names(with_redis=bool(redis_url))
    written, failed = write_reports(engine, Path(args.out), names, _redis_client(redis_url))
    return _summary(written, failed, describe_target(url))


def _explain_json(result) -> dict:
    nodes = result.nodes.astype(object).where(result.nodes.notna(), None)
    return {"total_ms": result.total_ms, "planning_ms": result.planning_ms, "execution_ms": result.execution_ms,
            "statement_kind": result.statement_kind, "nodes": nodes.to_dict(orient="records"), "plan": result.plan_json}


def _explain_text(result) -> str:
    summary = result.summary
    lines = [f"{result.statement_kind}: planning {summary.planning_ms or 0:.3f} ms, "
             + ("not executed" if summary.execution_ms is None else f"execution {summary.execution_ms:.3f} ms")
             + f", shared blocks hit {summary.total_shared_hit_blocks:,} read {summary.total_shared_read_blocks:,}"
             + f", {summary.flagged_node_count} of {summary.node_count} nodes flagged"]
    for row in flagged_nodes(result.nodes).itertuples():  # the slowest first
        lines.append(f"  #{row.node_id} {row.label}: {'; '.join(row.flags)}")
        if isinstance(row.index_suggestion, str):
            lines.append(f"      suggestion: {row.index_suggestion}")
        if isinstance(row.index_advice, str):
            lines.append(f"      index advice: {row.index_advice}")
    return "\n".join(lines + ["", result.text_plan])


def explain_command(args: argparse.Namespace) -> int:
    url, _ = _urls(args)
    options = ExplainOptions(analyze=args.analyze, timeout_ms=int(args.timeout * 1000),
                             analyze_writes=_settings().allow_analyze_writes)
    try:
        result = explain(make_engine(url, pool_size=1), args.sql, options, args.param or None)
    except PgPulseError as exc:
        raise CliError(str(exc)) from None
    print(json.dumps(_explain_json(result), default=str) if args.json else _explain_text(result))
    return 0


def _collect_targets(args: argparse.Namespace, settings) -> list:
    from collector import TargetConfig

    if args.database_url:
        return [TargetConfig(args.target or "default", args.database_url,
                             args.redis_url or os.environ.get("REDIS_URL") or None)]
    targets = [t for t in settings.targets if args.target in (None, t.name)]
    if not targets and not (settings.servers and args.target is None):
        raise CliError(f"no target named {args.target!r} in the configuration" if args.target else
                       "no database to collect from: pass --database-url URL or set DATABASE_URL")
    return [TargetConfig(t.name, t.database_url, t.redis_url) for t in targets]


def collect_command(args: argparse.Namespace) -> int:
    """Run the history collector (collector/) until SIGTERM / Ctrl-C, or once with --once."""
    import collector

    settings = _settings()
    history_url = args.history_url or settings.history_url
    if not history_url:
        raise CliError("no history store: pass --history-url URL or set PGPULSE_HISTORY_URL (make run uses the embedded one)")
    paces = {"history_statements_seconds": settings.history_statements_seconds,
             "history_database_seconds": settings.history_database_seconds,
             "history_activity_seconds": settings.history_activity_seconds,
             "history_settings_seconds": settings.history_settings_seconds,
             "history_redis_seconds": settings.history_redis_seconds,
             "history_sizes_seconds": settings.history_sizes_seconds,
             "history_index_scans_seconds": settings.history_index_scans_seconds}
    targets = _collect_targets(args, settings)
    servers = [] if args.database_url or args.target else [  # discovery: every database of these servers
        collector.ServerConfig(server.name, server.database_url, server.include, server.exclude) for server in settings.servers]
    try:
        return collector.run(targets, history_url, once=args.once, metrics_at=_metrics_at(args, settings), paces=paces,
                             retention_days=settings.history_retention_days,
                             statement_timeout_ms=settings.statement_timeout_ms, lock_timeout_ms=settings.lock_timeout_ms,
                             catalog_checks_every_s=settings.stats_refresh_seconds, servers=servers)
    except collector.MetricsUnavailable as exc:
        raise CliError(str(exc)) from None


def _metrics_at(args: argparse.Namespace, settings) -> tuple[str, int] | None:
    """(host, port) of /metrics from --metrics-port / --metrics-host, else the settings; None: not served."""
    port = args.metrics_port if args.metrics_port is not None else settings.metrics_port
    if port is None:
        return None
    if not 0 < port <= 65535:
        raise CliError(f"--metrics-port must be from 1 to 65535, not {port}")
    if args.once:
        raise CliError("--metrics-port serves a running collector's figures: leave out --once")
    return args.metrics_host or settings.metrics_host, port


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="pgpulse from the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser("report", help="write the reports as CSV files")
    rep.add_argument("--out", required=True, help="folder for the CSV files")
    rep.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL or secrets.toml)")
    rep.add_argument("--redis-url", help="Redis URL for the redis_* reports (default: REDIS_URL or secrets.toml)")
    rep.add_argument("--target", help="target name from secrets.toml")
    rep.add_argument("--since", help="over the last SPAN from the history store (15min, 1h, 24h, 7d): statements, "
                     "database_counters, database_load, lock_waits, table_growth, setting_changes and redis_history; "
                     "without it, figures since the last statistics reset")
    rep.add_argument("--from", dest="from_time", help="start of the range (ISO time, UTC unless it says otherwise)")
    rep.add_argument("--to", dest="to_time", help="end of the range (ISO time; default now)")
    rep.add_argument("--history-url", help="the history store for --since / --from (default: PGPULSE_HISTORY_URL)")
    rep.add_argument("--only", nargs="+", choices=sorted({*report_names(), *RANGE_REPORTS, FLEET_REPORT}),
                     help="write only these reports (fleet: one row per configured target, on its own)")
    rep.set_defaults(handler=report)
    exp = commands.add_parser("explain", help="EXPLAIN one statement safely (always rolled back)")
    exp.add_argument("sql", help="exactly one SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE")
    exp.add_argument("--analyze", action="store_true", help="run it (EXPLAIN ANALYZE), in a rolled-back transaction")
    exp.add_argument("--param", action="append", help="a value for $1, $2, ... (repeat in order)")
    exp.add_argument("--timeout", type=float, default=10.0, help="statement timeout in seconds (default 10)")
    exp.add_argument("--json", action="store_true", help="print total_ms, planning_ms, execution_ms, nodes and plan")
    exp.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL or secrets.toml)")
    exp.add_argument("--target", help="target name from secrets.toml")
    exp.set_defaults(handler=explain_command, redis_url=None)
    col = commands.add_parser("collect", help="keep history: poll every target into the history store until stopped")
    col.add_argument("--once", action="store_true",
                     help="one collection of every stored metric and one activity sample of every target, then exit")
    col.add_argument("--database-url", help="collect this database only (default: every configured target)")
    col.add_argument("--target", help="collect this configured target only (with --database-url: the name to store it by)")
    col.add_argument("--redis-url", help="with --database-url: its Redis, kept too (default: REDIS_URL)")
    col.add_argument("--history-url", help="the history store, a PostgreSQL URL (default: PGPULSE_HISTORY_URL or secrets.toml)")
    col.add_argument("--metrics-port", type=int, help="serve Prometheus metrics on http://127.0.0.1:PORT/metrics "
                     "(default: PGPULSE_METRICS_PORT; off when unset)")
    col.add_argument("--metrics-host", help="the address /metrics listens on (default 127.0.0.1: this machine only)")
    col.set_defaults(handler=collect_command)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"pgpulse: {exc}", file=sys.stderr)
        return 2
