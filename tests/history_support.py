"""Helpers of the history tests: a store database, one collection, and reads of the store's tables."""
from __future__ import annotations

import asyncio
import threading
import time
import uuid

import psycopg

from collector import Collector, TargetConfig
from tests.conftest import create_database

FAST_PACES = {"history_statements_seconds": 1, "history_database_seconds": 1}


def new_store(admin_url: str) -> str:
    """A new empty database to hold history; its URL."""
    return create_database(admin_url, f"h_{uuid.uuid4().hex[:10]}", extension=False)


def collect_once(history_url: str, *targets: tuple[str, ...], **options) -> bool:
    """One collection by a collector started for it (a restarted collector each time). A target: (name, database
    URL) or (name, database URL, Redis URL)."""
    async def once() -> bool:
        collector = Collector([TargetConfig(*target) for target in targets], history_url, **options)
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


def collect_while(history_url: str, target_url: str, action, *, before_s: float = 1.0, after_s: float = 1.0,
                  every_s: float = 0.5, name: str = "app") -> None:
    """Run a collector (sampling every `every_s`) around `action` (run in a thread), then stop it."""
    async def main() -> None:
        collector = Collector([TargetConfig(name, target_url)], history_url,
                              paces={**FAST_PACES, "history_activity_seconds": every_s})
        stop = asyncio.Event()
        running = asyncio.create_task(collector.run(stop))
        await asyncio.sleep(before_s)
        await asyncio.to_thread(action)
        await asyncio.sleep(after_s)
        stop.set()
        await running

    asyncio.run(main())


def hold_row_lock(url: str, pids: dict, hold_s: float = 3.0) -> None:
    """Session 'blocker' locks row 1 and holds it hold_s; session 'waiter' updates it meanwhile and waits."""
    with psycopg.connect(url) as blocker, psycopg.connect(url, autocommit=True) as waiter:
        pids["blocker"] = blocker.info.backend_pid
        pids["waiter"] = waiter.info.backend_pid
        blocker.execute("UPDATE hot SET n = n + 1 WHERE id = 1")
        thread = threading.Thread(target=lambda: waiter.execute("UPDATE hot SET n = n + 10 WHERE id = 1"))
        thread.start()
        time.sleep(hold_s)
        blocker.commit()
        thread.join()
