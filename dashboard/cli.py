"""Headless pgpulse: `python -m dashboard report --out DIR [--database-url URL]`.

Writes one CSV per report from the same queries functions the pages use.  A report that
can't be had is named on stderr with its reason; the others are still written.
"""
from __future__ import annotations

import argparse
import sys
from collections.abc import Callable
from pathlib import Path

import pandas as pd
import sqlalchemy as sa

from dashboard.config import ConfigError, load_settings
from queries.connection import describe_target, make_engine, server_version_num
from queries.errors import PgPulseError
from queries.statements import statements

# name -> function(engine) returning the frame written to <name>.csv
REPORTS: dict[str, Callable[[sa.Engine], pd.DataFrame]] = {
    "statements": lambda engine: statements(engine, limit=100_000),
}


class CliError(Exception):
    """Exit with this message and a non-zero status."""


def _database_url(args: argparse.Namespace) -> str:
    if args.database_url:
        return args.database_url
    try:
        target = load_settings().target(args.target)
    except ConfigError as exc:
        raise CliError(f"configuration: {exc}") from None
    if target is None:
        raise CliError("no database to report on: pass --database-url URL or set DATABASE_URL")
    return target.database_url


def write_reports(engine: sa.Engine, out_dir: Path, names: list[str]) -> tuple[list[Path], dict[str, str]]:
    """Write each named report; return the files written and the reasons for those that failed."""
    out_dir.mkdir(parents=True, exist_ok=True)
    written, failed = [], {}
    for name in names:
        try:
            frame = REPORTS[name](engine)
        except PgPulseError as exc:
            failed[name] = str(exc)
            continue
        path = out_dir / f"{name}.csv"
        frame.to_csv(path, index=False)
        written.append(path)
    return written, failed


def report(args: argparse.Namespace) -> int:
    url = _database_url(args)
    try:
        engine = make_engine(url, pool_size=1)
        server_version_num(engine)  # fail early and clearly: unreachable, auth, version < 14
    except PgPulseError as exc:
        raise CliError(str(exc)) from None
    written, failed = write_reports(engine, Path(args.out), args.only or list(REPORTS))
    for path in written:
        print(f"wrote {path}")
    for name, reason in failed.items():
        print(f"{name}: not written: {reason}", file=sys.stderr)
    print(f"{len(written)} of {len(written) + len(failed)} reports from {describe_target(url)}")
    return 1 if failed else 0


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(prog="python -m dashboard", description="pgpulse from the command line")
    commands = parser.add_subparsers(dest="command", required=True)
    rep = commands.add_parser("report", help="write the reports as CSV files")
    rep.add_argument("--out", required=True, help="folder for the CSV files")
    rep.add_argument("--database-url", help="PostgreSQL URL (default: DATABASE_URL or secrets.toml)")
    rep.add_argument("--target", help="target name from secrets.toml")
    rep.add_argument("--only", nargs="+", choices=sorted(REPORTS), help="write only these reports")
    rep.set_defaults(handler=report)
    return parser


def main(argv: list[str] | None = None) -> int:
    args = build_parser().parse_args(argv)
    try:
        return args.handler(args)
    except CliError as exc:
        print(f"pgpulse: {exc}", file=sys.stderr)
        return 2
