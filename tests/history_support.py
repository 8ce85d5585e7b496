"""Helpers of the history tests: a store database, one collection, and reads of the store's tables."""
from __future__ import annotations

import asyncio
import uuid

import psycopg

from collector import Collector, TargetConfig
from tests.conftest import create_database

FAST_PACES = {"history_statements_seconds": 1, "history_database_seconds": 1}


def new_store(admin_url: str) -> str:
    """A new empty database to hold history; its URL."""
    return create_database(admin_url, f"h_{uuid.uuid4().hex[:10]}", extension=False)


def collect_once(history_url: str, *targets: tuple[str, str], **options) -> bool:
    """One collection by a collector started for it (a restarted collector each time)."""
    async def once() -> bool:
        collector = Collector([TargetConfig(name, url) for name, url in targets], history_url, **options)
        try:
            return await collector.collect_once()
        finally:
            await collector.close()

    return asyncio.run(once())


def rows(history_url: str, sql: str, *params) -> list[tuple]:
    with psycopg.connect(history_url) as conn:
        return conn.execute(sql, params or None).fetchall()


def statement_calls(history_url: str, target: str, query_like: str) -> list[int]:
    """The calls deltas stored for the statements of a target whose text matches, oldest first."""
    return [calls for (calls,) in rows(history_url, """
        SELECT d.calls FROM pgpulse.statement_delta d
        JOIN pgpulse.target t USING (target_id)
        JOIN pgpulse.statement_text s ON s.target_id = d.target_id AND s.queryid = d.queryid
        WHERE t.name = %s AND s.query LIKE %s AND d.toplevel ORDER BY d.sampled_at""", target, query_like)]
