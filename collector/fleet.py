"""The fleet poller: every server's reachability and server-wide figures, read once per server (host:port) however
many of its databases are targets, each server in its own task with its own timeout and backoff, so a slow or dead
server never delays the others. Failing health checks are judged per target in one worker thread (queries.health
is synchronous), both groups at the statistics pace, spread over it, never waited for by a server's poll.

`FleetPoller.latest` holds each target's latest `queries.fleet.FleetFigures` (what the Fleet page shows, in memory).
"""
from __future__ import annotations

import asyncio
import logging
import time
import zlib
from collections import deque
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime

import sqlalchemy as sa

from collector.reader import TargetReader
from queries.connection import make_engine
from queries.errors import DatabaseMissingError, translate
from queries.fleet import FleetFigures, database_name, failing_of, reached, server_key, unreached
from queries.health import health_checks

log = logging.getLogger("pgpulse.collector")
BACKOFF_CAP_INTERVALS = 6  # a dead server is retried after 1, 2, 4 ... intervals, at most this many
# health checks judged at once: they hold the GIL while they shape frames, and the event loop must keep its pace
CHECK_THREADS = 1
DEFAULT_CATALOG_CHECKS_S = 300


@dataclass
class _Server:
    """One server's poll: the reader of one of its databases, when to try next, how many tries failed in a row."""

    reader: TargetReader
    url: str
    failures: int = 0
    next_try: float = 0.0
    lags_s: deque[float] = field(default_factory=lambda: deque(maxlen=1000))


class FleetPoller:
    def __init__(self, every_s: float, *, live_checks_every_s: float | None = None,
                 catalog_checks_every_s: float = DEFAULT_CATALOG_CHECKS_S, statement_timeout_ms: int = 5000,
                 lock_timeout_ms: int = 1000):
        self.every_s = float(every_s)
        # the live checks too at the statistics pace by default: 200 targets judged every 10 s, each through its own
        # connection and frames, took a whole core (bench/fleet.py); the Fleet page says how old they are
        self.checks_every_s = {"live": float(live_checks_every_s or max(every_s, catalog_checks_every_s)),
                               "catalog": float(catalog_checks_every_s)}
        self.timeouts = {"statement_timeout_ms": statement_timeout_ms, "lock_timeout_ms": lock_timeout_ms}
        self.timeout_s = max(1.0, min(self.every_s, statement_timeout_ms / 1000))
        self.latest: dict[str, FleetFigures] = {}
        self.unwritten: set[str] = set()  # targets whose latest figures the store has not had yet
        self._servers: dict[str, _Server] = {}
        self._engines: dict[str, sa.Engine] = {}  # per target: the health checks' synchronous engine
        self._checks_due: dict[tuple[str, str], float] = {}
        self._checking: dict[str, asyncio.Task] = {}
        self._check_slots = asyncio.Semaphore(CHECK_THREADS)

    # ---- one server ---------------------------------------------------------------------------------------------
    def _server(self, key: str, members: dict[str, str]) -> _Server:
        server = self._servers.get(key)
        if server is None or server.url not in members.values():  # its database left the configuration
            url = members[min(members)]
            server = self._servers[key] = _Server(TargetReader(url, **self.timeouts, connect_timeout_s=int(self.timeout_s)),
                                                  url, *(() if server is None else (server.failures, server.next_try)))
        return server

    async def poll_server(self, key: str, members: dict[str, str], *, wait_checks: bool = False,
                          groups: tuple[str, ...] = ("live", "catalog")) -> bool:
        """Read one server's figures (if it is due) and update its targets; False when it could not be read."""
        server = self._server(key, members)
        if time.monotonic() < server.next_try:
            return False
        at = datetime.now(UTC)
        try:
            rows = await self._read(server, members)
        except Exception as exc:
            self._failed(key, server, members, at, str(translate(exc)))
            return False
        if server.failures:
            log.info("server %s: reachable again", key)
        server.failures, server.next_try = 0, 0.0
        by_database = {row["database_name"]: row for row in rows}
        for name, url in members.items():
            self._update(name, reached(self.latest.get(name), name, at, by_database.get(database_name(url))))
        checks = [self._check_later(name, url, groups, at_once=wait_checks) for name, url in members.items()
                  if self.latest[name].reachable]
        if wait_checks:
            await asyncio.gather(*(task for task in checks if task is not None))
        return True

    async def _read(self, server: _Server, members: dict[str, str]) -> list[dict]:
        try:
            return await asyncio.wait_for(server.reader.read_query("select_fleet_databases"), self.timeout_s)
        except TimeoutError:
            raise TimeoutError(f"no answer within {self.timeout_s:g} s") from None
        except DatabaseMissingError:
            # the database read through was dropped: read through another one of the server next time
            others = sorted(url for url in members.values() if url != server.url)
            if others:
                await server.reader.close()
                server.reader, server.url = TargetReader(others[0], **self.timeouts), others[0]
            raise

    def _failed(self, key: str, server: _Server, members: dict[str, str], at: datetime, error: str) -> None:
        server.failures += 1
        backoff = self.every_s * min(2 ** (server.failures - 1), BACKOFF_CAP_INTERVALS)
        server.next_try = time.monotonic() + backoff
        if server.failures == 1:
            log.warning("server %s: %s (retried with a backoff of up to %g s)", key, error,
                        self.every_s * BACKOFF_CAP_INTERVALS)
        for name in members:
            self._update(name, unreached(self.latest.get(name), name, at, error))

    def _update(self, name: str, figures: FleetFigures) -> None:
        self.latest[name] = figures
        self.unwritten.add(name)

    # ---- health checks --------------------------------------------------------------------------------------------
    def _check_later(self, name: str, url: str, groups: tuple[str, ...], at_once: bool = False) -> asyncio.Task | None:
        """Judge the target's due check groups in a worker thread, unless a judgement of it is still running."""
        now = time.monotonic()
        for group in groups:  # a target's first judgement: somewhere in the first interval, so 200 do not start at once
            self._checks_due.setdefault((name, group), now + (0 if at_once else _spread(name, self.checks_every_s[group])))
        due = [group for group in groups if self._checks_due[(name, group)] <= now]
        if not due or (name in self._checking and not self._checking[name].done()):
            return None
        for group in due:
            self._checks_due[(name, group)] = now + self.checks_every_s[group]
        task = self._checking[name] = asyncio.create_task(self._judge(name, url, tuple(due)))
        return task

    async def _judge(self, name: str, url: str, groups: tuple[str, ...]) -> None:
        async with self._check_slots:
            engine = self._engines.get(name)
            if engine is None:
                engine = self._engines[name] = make_engine(url, pool_size=1, application_name="pgpulse-collector",
                                                           **self.timeouts)
            for group in groups:
                try:
                    checks = await asyncio.to_thread(health_checks, engine, groups=(group,))
                except Exception as exc:  # the checks report their own errors; this is the engine failing whole
                    log.debug("target %s: %s checks not judged: %s", name, group, translate(exc))
                    continue
                at = datetime.now(UTC)
                if name in self.latest:
                    self._update(name, replace(self.latest[name], **{f"{group}_checks": failing_of(checks),
                                                                     f"{group}_checks_at": at}))

    # ---- running --------------------------------------------------------------------------------------------------
    async def poll_once(self, targets: dict[str, str], groups: tuple[str, ...] = ()) -> bool:
        """Every server once, concurrently, with its checks of `groups` (none by default: `collect --once` reads the
        figures only; the running collector judges the checks at their paces); False when a server failed."""
        results = await asyncio.gather(*(self.poll_server(key, members, wait_checks=True, groups=groups)
                                         for key, members in by_server(targets).items()))
        return all(results)

    async def run(self, stop: asyncio.Event, targets) -> None:
        """Until `stop`: one task per server, on the clock; `targets()` gives the current {name: url} (it changes as
        targets are claimed, discovered or dropped)."""
        tasks: dict[str, asyncio.Task] = {}
        try:
            while not stop.is_set():
                servers = by_server(targets())
                for key in set(tasks) - set(servers):
                    tasks.pop(key).cancel()
                for key in servers:
                    if key not in tasks or tasks[key].done():
                        tasks[key] = asyncio.create_task(self._server_loop(key, stop, targets))
                self.forget(set(self.latest) - set(targets()))
                await _wait(stop, min(self.every_s, 1.0))
        finally:
            for task in [*tasks.values(), *self._checking.values()]:
                task.cancel()
            await asyncio.gather(*tasks.values(), *self._checking.values(), return_exceptions=True)

    async def _server_loop(self, key: str, stop: asyncio.Event, targets) -> None:
        due = time.monotonic()
        while not stop.is_set():
            members = by_server(targets()).get(key)
            if not members:
                return
            server = self._server(key, members)
            server.lags_s.append(max(0.0, time.monotonic() - max(due, server.next_try)))
            await self.poll_server(key, members)
            due = max(due + self.every_s, time.monotonic())
            await _wait(stop, max(due, server.next_try) - time.monotonic())

    def poll_lags_s(self) -> list[float]:
        """How late each server poll started against its clock (seconds), every server's, oldest first."""
        return [lag for server in self._servers.values() for lag in server.lags_s]

    def forget(self, names: set[str]) -> None:
        for name in names:
            self.latest.pop(name, None)
            self.unwritten.discard(name)
            engine = self._engines.pop(name, None)
            if engine is not None:
                engine.dispose()

    async def close(self) -> None:
        self.forget(set(self._engines))
        for server in self._servers.values():
            await server.reader.close()
        self._servers.clear()


def _spread(name: str, every_s: float) -> float:
    """A stable offset in [0, every_s) for a target (crc32: the same in every process, unlike hash())."""
    return zlib.crc32(name.encode()) % 1000 / 1000 * every_s


def by_server(targets: dict[str, str]) -> dict[str, dict[str, str]]:
    """{host:port: {name: url}}: the targets sharing a server share one read of it."""
    grouped: dict[str, dict[str, str]] = {}
    for name, url in targets.items():
        grouped.setdefault(server_key(url), {})[name] = url
    return grouped


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=max(seconds, 0.0))
    except TimeoutError:
        pass
