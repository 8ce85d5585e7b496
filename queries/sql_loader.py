"""Load SQL from queries/sql/, choosing the per-version variant a server needs.

A query `name` lives in `name.sql`; where PostgreSQL renamed columns, `name_post_170000.sql`
holds the variant for servers whose server_version_num is >= 170000.  The highest suffix not
above the server's version wins.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
_VARIANT = re.compile(r"^(?P<name>.+?)(?:_post_(?P<version>\d{6}))?\.sql$")


@cache
def _variants() -> dict[str, dict[int, Path]]:
    """name -> {minimum server_version_num: file}; the base file has minimum 0."""
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(SQL_DIR.glob("*.sql")):
        match = _VARIANT.match(path.name)
        version = int(match["version"] or 0)
        found.setdefault(match["name"], {})[version] = path
    return found


def query_names() -> set[str]:
    """Every query name that has at least one .sql file."""
    return set(_variants())


def sql_files() -> list[Path]:
    return sorted(SQL_DIR.glob("*.sql"))


# pg_stat_statements keeps comments inside a statement but not before it: the mark goes after the
# first keyword, so pgpulse's own statements can be told apart (and hidden) on the Queries page
OWN_STATEMENT_MARK = "/* pgpulse */"
_FIRST_KEYWORD = re.compile(r"^(\s*(?:--[^\n]*\n\s*)*\w+)")


def mark_own(sql: str) -> str:
    """The statement with OWN_STATEMENT_MARK after its first keyword."""
    return _FIRST_KEYWORD.sub(lambda match: f"{match.group(1)} {OWN_STATEMENT_MARK}", sql, count=1)


@cache
def load_sql(name: str, server_version_num: int = 999999) -> str:
    """The text of query `name` for a server of the given version, marked as pgpulse's own."""
    variants = _variants().get(name)
    if not variants:
        raise KeyError(f"no SQL file for query {name!r} in {SQL_DIR}")
    usable = [version for version in variants if version <= server_version_num]
    if not usable:
        raise KeyError(f"query {name!r} has no variant for server version {server_version_num}")
    return mark_own(variants[max(usable)].read_text())
