"""Reads of one monitored target for the collector: asyncpg through SQLAlchemy's async engine, over the same .sql files
as the dashboard, each in a READ ONLY transaction with statement and lock timeouts."""
from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import UTC, datetime

from sqlalchemy.ext.asyncio import AsyncConnection, create_async_engine

from queries.catalogue import Metric
from queries.connection import check_supported, fetch_rows_in, normalize_url
from queries.errors import LockTimeoutError, StatementTimeoutError, translate
from queries.history.deltas import Snapshot
from queries.history.sampling import LOCK_TREE_ROWS, waits_on_lock
from queries.sql_loader import load_sql

APPLICATION_NAME = "pgpulse-collector"


class TargetReader:
    """One target's engine (one connection: the collector reads a target's metrics one after the other)."""

    def __init__(self, database_url: str, *, statement_timeout_ms: int = 5000, lock_timeout_ms: int = 1000,
                 connect_timeout_s: int = 5):
        self.engine = create_async_engine(
            normalize_url(database_url, "asyncpg"), pool_size=1, max_overflow=0, pool_pre_ping=True, pool_recycle=600,
            connect_args={"server_settings": {"application_name": APPLICATION_NAME}, "timeout": connect_timeout_s})
        self.statement_timeout_ms, self.lock_timeout_ms = int(statement_timeout_ms), int(lock_timeout_ms)
        self._version: int | None = None

    async def _begin_read_only(self, conn: AsyncConnection) -> None:
        # one round trip; the values are ints. UTC: the store's times compare equal whatever the server's TimeZone
        await conn.exec_driver_sql(
            "SELECT /* pgpulse */ set_config('transaction_read_only', 'on', true), "
            f"set_config('statement_timeout', '{self.statement_timeout_ms}ms', true), "
            f"set_config('lock_timeout', '{self.lock_timeout_ms}ms', true), set_config('jit', 'off', true), "
            "set_config('TimeZone', 'UTC', true)")

    async def _rows(self, conn: AsyncConnection, name: str, params: dict | None = None) -> list[dict]:
        # masked like the pages' rows
        rows, columns = await conn.run_sync(fetch_rows_in, load_sql(name, self._version), params)
        return [dict(zip(columns, row, strict=True)) for row in rows]

    async def _add_new_texts(self, conn: AsyncConnection, sql: str, rows: list[dict], known: set[int]) -> None:
        """The text of each entry the store does not have yet, read in the snapshot's transaction."""
        new = sorted({row["queryid"] for row in rows} - known)
        if not new:
            return
        texts = {row["queryid"]: row["query"] for row in await self._rows(conn, sql, {"queryids": new})}
        for row in rows:
            if row["queryid"] in texts:
                row["query"] = texts[row["queryid"]]

    async def read(self, metric: Metric, known_texts: set[int] | None = None) -> Snapshot:
        """One snapshot of a stored metric (statements: with pg_stat_statements_info's markers, same transaction).
        Texts are read for the entries not in `known_texts` only. A read cancelled by the statement or lock timeout
        is read again by the metric's fallback SQL, if it has one (a big catalog's exact sizes: the estimates)."""
        try:
            return await self._read(metric, metric.stored.sql, known_texts)
        except (StatementTimeoutError, LockTimeoutError):
            if metric.stored.fallback_sql is None:
                raise
            return await self._read(metric, metric.stored.fallback_sql, known_texts, estimated=True)

    async def _read(self, metric: Metric, sql: str, known_texts: set[int] | None, estimated: bool = False) -> Snapshot:
        async with self._read_only() as conn:
            markers = (await self._rows(conn, "select_statements_info"))[0] if metric.name == "statements" else {}
            stored = metric.stored
            rows = await self._rows(conn, sql, {"with_text": False} if stored.texts_sql else None)
            if stored.texts_sql:
                await self._add_new_texts(conn, stored.texts_sql, rows, known_texts or set())
        started = markers.get("server_started_at") or (rows[0].get("server_started_at") if rows else None)
        return Snapshot(metric.name, datetime.now(UTC), rows, stats_reset=markers.get("stats_reset"),
                        server_started_at=started, dealloc=markers.get("dealloc"), estimated=estimated)

    async def read_sessions(self) -> tuple[datetime, list[dict], list[dict]]:
        """One active session sample: its moment, the non-idle client backends (select_active_sessions) and, only
        when one waits on a lock, the blocking tree (pg_blocking_pids is not called otherwise)."""
        async with self._read_only() as conn:
            at = datetime.now(UTC)
            rows = await self._rows(conn, "select_active_sessions")
            tree = await self._rows(conn, "select_blocking_tree", {"limit": LOCK_TREE_ROWS}) if waits_on_lock(rows) else []
        return at, rows, tree

    @asynccontextmanager
    async def _read_only(self) -> AsyncIterator[AsyncConnection]:
        """One READ ONLY transaction with the timeouts, always rolled back; failures as PgPulseError."""
        try:
            async with self.engine.connect() as conn:
                transaction = await conn.begin()
                try:
                    if self._version is None:
                        self._version = check_supported(int((await conn.exec_driver_sql("SHOW server_version_num")).scalar()))
                    await self._begin_read_only(conn)
                    yield conn
                finally:
                    await transaction.rollback()
        except Exception as exc:
            self._version = None  # a restarted server may be another version
            raise translate(exc) from None

    async def read_rows(self, *names: str) -> dict[str, list[dict]]:
        """The rows of each named queries/sql file, read in one transaction (one snapshot of the statistics)."""
        async with self._read_only() as conn:
            return {name: await self._rows(conn, name) for name in names}

    async def read_query(self, name: str, params: dict | None = None) -> list[dict]:
        """The rows of one query of queries/sql (its version's variant), in a READ ONLY transaction."""
        async with self._read_only() as conn:
            return await self._rows(conn, name, params)

    async def close(self) -> None:
        await self.engine.dispose()


def store_engine(history_url: str):
    """The collector's async engine on the history store."""
    return create_async_engine(normalize_url(history_url, "asyncpg"), pool_size=2, max_overflow=0, pool_pre_ping=True,
                               connect_args={"server_settings": {"application_name": APPLICATION_NAME}, "timeout": 5})

