"""Load SQL from queries/sql/, choosing the per-version variant a server needs.

A query `name` lives in `name.sql`; where PostgreSQL renamed columns, `name_post_170000.sql`
holds the variant for servers whose server_version_num is >= 170000.  The highest suffix not
above the server's version wins.  Where only an expression differs, the query says `{{fragment}}`
and queries/sql/fragments/ holds `fragment.sql` and its `_post_NNNNNN` variants, chosen by the same
rule, so the rest of the query is written once.
"""
from __future__ import annotations

import re
from functools import cache
from pathlib import Path

SQL_DIR = Path(__file__).parent / "sql"
FRAGMENT_DIR = SQL_DIR / "fragments"
_VARIANT = re.compile(r"^(?P<name>.+?)(?:_post_(?P<version>\d{6}))?\.sql$")
_FRAGMENT = re.compile(r"\{\{(\w+)\}\}")


def _variants_in(directory: Path) -> dict[str, dict[int, Path]]:
    """name -> {minimum server_version_num: file}; the base file has minimum 0."""
    found: dict[str, dict[int, Path]] = {}
    for path in sorted(directory.glob("*.sql")):
        match = _VARIANT.match(path.name)
        version = int(match["version"] or 0)
        found.setdefault(match["name"], {})[version] = path
    return found


@cache
def _variants() -> dict[str, dict[int, Path]]:
    return _variants_in(SQL_DIR)


@cache
def _fragments() -> dict[str, dict[int, Path]]:
    return _variants_in(FRAGMENT_DIR)


def _for_version(kind: str, name: str, variants: dict[int, Path] | None, server_version_num: int) -> Path:
    if not variants:
        raise KeyError(f"no SQL file for {kind} {name!r} in {SQL_DIR}")
    usable = [version for version in variants if version <= server_version_num]
    if not usable:
        raise KeyError(f"{kind} {name!r} has no variant for server version {server_version_num}")
    return variants[max(usable)]


def fragment_names() -> set[str]:
    return set(_fragments())


def fragments_used(sql: str) -> set[str]:
    return set(_FRAGMENT.findall(sql))


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
    """The text of query `name` for a server of the given version, its {{fragments}} filled in for that
    version, marked as pgpulse's own."""
    sql = _for_version("query", name, _variants().get(name), server_version_num).read_text()

    def fragment(match: re.Match) -> str:
        path = _for_version("fragment", match[1], _fragments().get(match[1]), server_version_num)
        # a fragment file's first line says what it is (a comment); the expression is the rest
        return path.read_text().split("\n", 1)[1].strip()

    return mark_own(_FRAGMENT.sub(fragment, sql))
