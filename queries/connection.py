"""Engines and the one execution path every monitoring query takes.

Each query runs in a READ ONLY transaction with statement_timeout and lock_timeout set
locally (so a migration holding a catalog lock cannot hang the dashboard), parameters bound,
and the transaction rolled back at the end.
"""
from __future__ import annotations

import functools
import re
import weakref
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pandas as pd
import sqlalchemy as sa
from sqlalchemy.engine import URL, make_url

from queries.errors import InvalidTargetError, PgPulseError, UnsupportedServerError, scrub, translate
from queries.sql_loader import load_sql

MIN_SERVER_VERSION_NUM = 140000
APPLICATION_NAME = "pgpulse"
_PG_SCHEMES = {"postgres", "postgresql"}
_SUSPECT = re.compile("password|://", re.IGNORECASE)  # what every pattern of errors.scrub contains
_versions: weakref.WeakKeyDictionary[sa.Engine, int] = weakref.WeakKeyDictionary()
_timeouts: weakref.WeakKeyDictionary[sa.Engine, dict[str, int]] = weakref.WeakKeyDictionary()


def _url_from_keywords(conninfo: str) -> URL:
    """A libpq keyword/value string (host=... dbname=...) as a SQLAlchemy URL."""
    from psycopg.conninfo import conninfo_to_dict

    try:
        params = {key: str(value) for key, value in conninfo_to_dict(conninfo).items()}
    except Exception as exc:
        raise InvalidTargetError(f"not a database URL or libpq connection string: {exc}") from None
    port = params.pop("port", None)
    return URL.create("postgresql", username=params.pop("user", None), password=params.pop("password", None),
                      host=params.pop("host", None), port=int(port) if port else None,
                      database=params.pop("dbname", None), query=params)


def normalize_url(url: str | URL, driver: str = "psycopg") -> URL:
    """Accept postgres:// and postgresql:// with any driver suffix; return it for `driver`."""
    if isinstance(url, str):
        url = url.strip()
        if not url:
            raise InvalidTargetError("the database URL is empty")
        if "://" not in url and "=" in url:
            url = _url_from_keywords(url)
    try:
        parsed = make_url(url)
    except Exception:
        raise InvalidTargetError("the database URL could not be parsed; expected postgresql://user@host:port/dbname") from None
    scheme = parsed.drivername.split("+")[0]
    if scheme not in _PG_SCHEMES:
        raise InvalidTargetError(f"not a PostgreSQL URL: scheme {scheme!r}; expected postgresql:// or postgres://")
    return parsed.set(drivername=f"postgresql+{driver}")


def describe_target(url: str | URL) -> str:
    """host:port/dbname for display: never the user's password."""
    try:
        parsed = normalize_url(url)
    except PgPulseError:
        return "(invalid URL)"
    return f"{describe_server(parsed)}/{parsed.database or ''}"


def describe_server(url: str | URL) -> str:
    """host:port of the server (the port when the URL names one): never the user's password."""
    try:
        parsed = normalize_url(url)
    except PgPulseError:
        return "(invalid URL)"
    host = parsed.host or parsed.query.get("host") or "local socket"
    return f"{host}:{parsed.port}" if parsed.port else str(host)


def make_engine(url: str | URL, *, pool_size: int = 4, connect_timeout_s: int = 5,
                application_name: str = APPLICATION_NAME, statement_timeout_ms: int = 5000,
                lock_timeout_ms: int = 1000) -> sa.Engine:
    """A psycopg 3 engine whose pool never holds more than pool_size connections; its queries
    get these timeouts unless a call asks for others."""
    engine = sa.create_engine(
        normalize_url(url), pool_size=pool_size, max_overflow=0, pool_timeout=30,
        pool_pre_ping=True, pool_recycle=600,
        connect_args={"application_name": application_name, "connect_timeout": connect_timeout_s},
    )
    _timeouts[engine] = {"statement_timeout_ms": statement_timeout_ms, "lock_timeout_ms": lock_timeout_ms}
    return engine


def check_supported(server_version_num: int) -> int:
    if server_version_num < MIN_SERVER_VERSION_NUM:
        major = server_version_num // 10000
        raise UnsupportedServerError(
            f"PostgreSQL {major} is not supported: pgpulse needs PostgreSQL 14 or newer "
            f"(server_version_num {server_version_num})")
    return server_version_num


def server_version_num(engine: sa.Engine) -> int:
    """The server's version number (e.g. 180001), cached per engine, refused below 14."""
    if engine not in _versions:
        ping(engine)
    return _versions[engine]


def ping(engine: sa.Engine) -> int:
    """One round trip to the server, never cached (is the target reachable now?): its version number, or the
    UnreachableError / AuthenticationError / UnsupportedServerError a person can act on."""
    try:
        with engine.connect() as conn:
            version = int(conn.exec_driver_sql("SHOW /* pgpulse */ server_version_num").scalar_one())
    except Exception as exc:
        raise translate(exc) from None
    _versions[engine] = check_supported(version)
    return version


@contextmanager
def read_only(engine: sa.Engine, *, statement_timeout_ms: int | None = None,
              lock_timeout_ms: int | None = None) -> Iterator[sa.Connection]:
    """A connection inside a READ ONLY transaction with local timeouts; always rolled back."""
    defaults = _timeouts.get(engine, {"statement_timeout_ms": 5000, "lock_timeout_ms": 1000})
    statement_timeout_ms = statement_timeout_ms or defaults["statement_timeout_ms"]
    lock_timeout_ms = lock_timeout_ms or defaults["lock_timeout_ms"]
    try:
        with engine.connect() as conn:
            with conn.begin() as transaction:
                # one round trip (no parameters: the simple protocol takes both statements; the values are ints),
                # marked as pgpulse's own so the Queries page can hide them. JIT compiles big catalog queries for
                # hundreds of ms and never pays off for monitoring. Timestamps come back in UTC whatever the
                # server's TimeZone: one zone on every page, and psycopg then hands pandas datetime.timezone.utc,
                # which it converts 3x faster than a zoneinfo zone (the Activity page's 200 sessions: ~1 ms).
                conn.exec_driver_sql(
                    "SET /* pgpulse */ TRANSACTION READ ONLY; "
                    f"SELECT /* pgpulse */ set_config('statement_timeout', '{int(statement_timeout_ms)}ms', true), "
                    f"set_config('lock_timeout', '{int(lock_timeout_ms)}ms', true), set_config('jit', 'off', true), "
                    "set_config('TimeZone', 'UTC', true)")
                try:
                    yield conn
                finally:
                    transaction.rollback()
    except PgPulseError:
        raise
    except Exception as exc:
        raise translate(exc) from None


def fetch_frame(engine: sa.Engine, name: str, params: dict[str, Any] | None = None,
                **timeouts: int) -> pd.DataFrame:
    """Run queries/sql/<name>.sql (the variant for this server) and return its rows."""
    sql = load_sql(name, server_version_num(engine))
    with read_only(engine, **timeouts) as conn:
        # masked on the plain tuples, then one DataFrame: ~3x cheaper than a frame of Row objects masked per column
        return fetch_frame_in(conn, sql, params)


def without_passwords(frame: pd.DataFrame) -> pd.DataFrame:
    """Statement texts (pg_stat_statements, pg_stat_activity) can hold CREATE ROLE ... PASSWORD 'x':
    mask them in every text column before a frame leaves the data layer."""
    if frame.empty:
        return frame
    masked = {}
    for column in frame.columns:
        values = frame[column]
        if not (values.dtype == object or pd.api.types.is_string_dtype(values.dtype)):
            continue
        # scrub's patterns all contain 'password' or '://': one compiled search per cell keeps the
        # per-cell regexes to the few cells that can hold a secret. A plain loop beats pandas' .str
        # here: 0.7 ms instead of 7 ms for a 20-row frame, 20 ms instead of 40 ms for 40,000 names.
        cells = values.tolist()
        if any(_is_suspect(cell) for cell in cells):
            masked[column] = pd.Series([_masked(cell) for cell in cells], index=values.index, dtype=values.dtype)
    return frame.assign(**masked) if masked else frame


def _is_suspect(cell: Any) -> bool:
    return isinstance(cell, str) and _SUSPECT.search(cell) is not None


def _masked(cell: Any) -> Any:
    """The cell with errors.scrub applied if it can hold a secret, else the cell itself."""
    return scrub(cell) if _is_suspect(cell) else cell


def fetch_row(engine: sa.Engine, name: str, params: dict[str, Any] | None = None,
              **timeouts: int) -> dict[str, Any]:
    """Run a single-row query and return it as a dict."""
    sql = load_sql(name, server_version_num(engine))
    with read_only(engine, **timeouts) as conn:
        return fetch_row_in(conn, sql, params)


# Several queries in one transaction: on a connection from read_only(), every read of pg_stat_activity and
# pg_stat_progress_* sees the same backend snapshot (PostgreSQL takes it once per transaction), and the
# transaction's fixed cost (checkout, SET TRANSACTION, set_config, rollback) is paid once. The SQL comes
# from load_sql(name, server_version_num(engine)), the version read before the transaction holds the
# pool's connection.

def fetch_rows_in(conn: sa.Connection, sql: str, params: dict[str, Any] | None = None
                  ) -> tuple[list[tuple], list[str]]:
    """Run sql (from load_sql) on a connection from read_only(): its rows as tuples, passwords masked in
    every text cell as without_passwords masks them, and its column names."""
    result = conn.execute(sa.text(sql), params or {})
    return _rows_without_passwords(result.fetchall()), list(result.keys())


def _rows_without_passwords(rows: list[Any]) -> list[tuple]:
    """The rows as tuples, each text cell that without_passwords would mask masked the same way. Done on
    the rows, before any frame is built, it saves pandas' per-column round trip (ms for a page of sessions)."""
    texts = [cell for row in rows for cell in row if isinstance(cell, str)]
    if not _SUSPECT.search("\n".join(texts)):  # the usual case: one search for all the rows
        return [tuple(row) for row in rows]
    return [tuple(_masked(cell) for cell in row) for row in rows]


def frame_of(rows: list[tuple], columns: list[str] | tuple[str, ...]) -> pd.DataFrame:
    """Rows from fetch_rows_in as fetch_frame returns them: the same dtypes for the same values."""
    if not rows:  # most panels are empty most of the time: copying a template is 20x cheaper than building one
        return _empty_frame(tuple(columns)).copy()
    return pd.DataFrame(rows, columns=list(columns))


@functools.lru_cache(maxsize=64)
def _empty_frame(columns: tuple[str, ...]) -> pd.DataFrame:
    return pd.DataFrame([], columns=list(columns))


def fetch_frame_in(conn: sa.Connection, sql: str, params: dict[str, Any] | None = None) -> pd.DataFrame:
    """fetch_frame on a connection from read_only(), so several queries share its transaction."""
    return frame_of(*fetch_rows_in(conn, sql, params))


def fetch_row_in(conn: sa.Connection, sql: str, params: dict[str, Any] | None = None) -> dict[str, Any]:
    """fetch_row on a connection from read_only(), so several queries share its transaction."""
    return dict(conn.execute(sa.text(sql), params or {}).mappings().one())
