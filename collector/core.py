"""The collector: polls every target concurrently, each stored metric at its pace, and writes deltas to the store.

- Each target is polled by one collector at a time: a PostgreSQL advisory lock per target, taken on this collector's
  own store session (its "lock session"). When a collector dies its session ends, its locks go, and another collector
  takes the target at its next claim (every `claim_every_s`, at most the database pace).
- A target's last snapshot lives in the store (collector_state / counter_state), so a restarted collector continues
  from it. Every batch is written in one transaction that first checks the store's last snapshot is the one the
  batch follows: a delta is never stored twice, even by two collectors that both believe they hold a target.
- Store down: the collector keeps polling, keeps what it read in memory (in order), logs once, and writes it all
  when the store is back. Target down: no snapshot (a gap), the other targets go on; logged once per problem and
  once when it is back.
- pg_stat_statements is never reset: every read is a READ ONLY transaction.
- For /metrics (collector/prometheus.py) each held target also keeps, in memory only: whether its last poll reached
  it, the latest snapshot of the metrics named in `keep_latest`, its last closed activity bucket and, with
  `server_figures`, its server-wide figures (collector/server_figures.py). A target given up takes them with it.
"""
from __future__ import annotations

import asyncio
import logging
import os
import time
import weakref
from collections import deque
from dataclasses import dataclass, field

import sqlalchemy as sa
from sqlalchemy.ext.asyncio import AsyncConnection

from collector.discovery import Discovery, ServerConfig
from collector.fleet import DEFAULT_CATALOG_CHECKS_S, FleetPoller
from collector.reader import APPLICATION_NAME, TargetReader, store_engine
from collector.redis_reader import RedisReader
from collector.server_figures import ServerFigures, read_server_figures
from queries import catalogue
from queries.connection import describe_target, make_engine, normalize_url
from queries.errors import PgPulseError, UnreachableError, translate
from queries.history import fleet as fleet_store
from queries.history import schema, store
from queries.history._sql import store_sql
from queries.history.deltas import Batch, MetricState, Snapshot, next_batch
from queries.history.sampling import ActivityBucket, Aggregator

log = logging.getLogger("pgpulse.collector")
MAX_PENDING_BATCHES = 20_000  # per target: about 2 days of statements and database counters at the default paces
MAINTENANCE_EVERY_S = 3600
FLEET_WRITE_EVERY_S = 2  # while a backlog of batches is written, the fleet figures still go out this often
SERVER_FIGURES = "server figures"  # its key among a target's next_due; read at the database pace
CATALOG_CHECKS = "catalog checks"  # the health checks the Overview runs at the statistics pace
# Alembic keeps its running migration in module globals: collectors sharing a process migrate one at a time
# (one lock per event loop: an asyncio.Lock binds to the loop it first waits in, and a process may run several loops)
_MIGRATING: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def _migrating() -> asyncio.Lock:
    return _MIGRATING.setdefault(asyncio.get_running_loop(), asyncio.Lock())


@dataclass
class TargetConfig:
    name: str
    database_url: str = field(repr=False)
    redis_url: str | None = field(default=None, repr=False)  # its Redis INFO is kept too (history_redis_seconds)


@dataclass
class _Held:
    """A target this collector polls: its reader, store id, last snapshots and the batches not yet written."""

    reader: TargetReader
    target_id: int
    states: dict[str, MetricState | None] = field(default_factory=dict)
    known_queryids: set[int] = field(default_factory=set)
    pending: deque[Batch] = field(default_factory=deque)
    next_due: dict[str, float] = field(default_factory=dict)
    # active session sampling: its own connection (a slow statements read must not delay a sample), its open bucket
    sampler: TargetReader | None = None
    aggregator: Aggregator = field(default_factory=Aggregator)
    buckets: deque[ActivityBucket] = field(default_factory=deque)
    # the latest readings, for /metrics: replaced whole (never mutated), since the HTTP thread reads them
    up: bool | None = None  # reached at its last poll; None until polled
    reached_at: float | None = None  # epoch seconds of the last poll that reached it
    latest: dict[str, Snapshot] = field(default_factory=dict)
    last_bucket: ActivityBucket | None = None
    figures: ServerFigures | None = None
    checks_engine: sa.Engine | None = None  # the health verdicts take a psycopg engine
    redis: RedisReader | None = None  # the target's Redis, when it has one


class Collector:
    def __init__(self, targets: list[TargetConfig], history_url: str, *, paces: dict[str, int] | None = None,
                 retention_days: int = store.DEFAULT_RETENTION_DAYS, statement_timeout_ms: int = 5000,
                 lock_timeout_ms: int = 1000, keep_latest: tuple[str, ...] = (), server_figures: bool = False,
                 catalog_checks_every_s: float = DEFAULT_CATALOG_CHECKS_S, servers: list[ServerConfig] | None = None):
        self.targets = {target.name: target for target in targets}
        # PostgreSQL's metrics share the target's connection; Redis's are read in their own loop (a Redis down must
        # not delay PostgreSQL's reads)
        self.metrics = [m for m in catalogue.stored_metrics() if m.source == "postgres"]
        self.redis_metrics = [m for m in catalogue.stored_metrics() if m.source == "redis"]
        self.paces = {"history_statements_seconds": 60, "history_database_seconds": 10, "history_settings_seconds": 60,
                      "history_redis_seconds": 10, "history_sizes_seconds": 3600, "history_index_scans_seconds": 600,
                      **(paces or {})}
        self.activity_every_s = float(self.paces.pop("history_activity_seconds", 1.0))
        self.keep_latest, self.server_figures = frozenset(keep_latest), server_figures
        self.catalog_checks_every_s = catalog_checks_every_s
        self.retention_days = retention_days
        self.timeouts = {"statement_timeout_ms": statement_timeout_ms, "lock_timeout_ms": lock_timeout_ms}
        self.store = store_engine(history_url)
        self.store_location = describe_target(history_url)
        self.held: dict[str, _Held] = {}
        self._lock_session: AsyncConnection | None = None
        self._migrated = False
        self._problems: dict[str, str] = {}
        self._last_maintenance = 0.0
        # the Fleet page's figures: once per server at the database pace (collector/fleet.py)
        self.fleet = FleetPoller(self.paces["history_database_seconds"], catalog_checks_every_s=catalog_checks_every_s,
                                 **self.timeouts)
        # server entries with databases = "*": their databases are targets, followed as they come and go
        self.discovery = Discovery(servers or [], self.paces["history_database_seconds"], **self.timeouts)
        self._configured = set(self.targets)
        self._listing: asyncio.Task | None = None

    async def discover(self, force: bool = False) -> None:
        """List the server entries' databases when due (in a task of its own: a slow server must not hold up claims
        and writes): a new one becomes a target, a dropped one stops being one."""
        if force:
            await self.discovery.refresh(force=True)
        else:
            listing = self._listing
            if listing is None or not listing.done():
                if listing is None:
                    self._listing = asyncio.create_task(self.discovery.refresh())
                return
            self._listing = None
            if not listing.result():
                return
        found = self.discovery.targets
        for name in sorted(set(self.targets) - self._configured - set(found)):
            del self.targets[name]
            if name in self.held:
                if self._lock_session is not None:
                    await self._lock_session.execute(store_sql("select_release_target_lock"), {"name": name})
                await self._forget(name)
            log.info("target %s: gone from its server; no longer collected", name)
        for name, url in found.items():
            if name not in self.targets:
                self.targets[name] = TargetConfig(name, url)
                log.info("target %s: discovered", name)

    def held_urls(self) -> dict[str, str]:
        """{name: database URL} of the targets this collector polls."""
        return {name: self.targets[name].database_url for name in self.held if name in self.targets}

    # ---- logging once per problem ---------------------------------------------------------------------------------
    def _problem(self, key: str, what: str, exc: BaseException) -> None:
        """Log a target's or the store's failure once, until it is reachable again (a server going down says
        'shutting down', then 'unreachable': one problem)."""
        error = translate(exc)
        if key not in self._problems:
            log.warning("%s: %s", what, error)
            self._problems[key] = error.kind

    def _fine(self, key: str, what: str) -> None:
        if self._problems.pop(key, None) is not None:
            log.info("%s: reachable again", what)

    # ---- the store ------------------------------------------------------------------------------------------------
    async def _store_call(self, function, *args):
        async with self.store.connect() as conn:
            return await conn.run_sync(function, *args)

    async def ensure_store(self) -> bool:
        """Migrate once and hold a live lock session; False (logged once) while the store is unreachable."""
        try:
            if not self._migrated:
                async with _migrating():
                    await self._store_call(schema.migrate)
                await self._store_call(store.partitions_ahead)
                self._migrated = True
            if self._lock_session is not None:
                try:
                    await self._lock_session.exec_driver_sql("SELECT 1")
                except Exception:
                    await self._drop_lock_session()
            if self._lock_session is None:
                self._lock_session = await self.store.connect()
                self._lock_session = await self._lock_session.execution_options(isolation_level="AUTOCOMMIT")
                await self._reclaim_after_reconnect()
        except Exception as exc:
            self._problem("store", f"history store {self.store_location}", exc)
            await self._drop_lock_session()
            return False
        self._fine("store", f"history store {self.store_location}")
        return True

    async def _drop_lock_session(self) -> None:
        session, self._lock_session = self._lock_session, None
        if session is not None:
            try:
                await session.invalidate()
                await session.close()
            except Exception:  # the session is gone already: its locks went with it
                pass

    async def _try_lock(self, name: str) -> bool:
        return bool((await self._lock_session.execute(store_sql("select_try_target_lock"), {"name": name})).scalar())

    async def _reclaim_after_reconnect(self) -> None:
        """A new lock session holds nothing: take back the targets polled so far, give up those another collector took."""
        for name in list(self.held):
            if not await self._try_lock(name):
                log.info("target %s: polled by another collector now", name)
                await self._forget(name)

    async def claim_targets(self) -> None:
        """Take the lock of every configured target not polled yet; load its last stored snapshots."""
        for name, target in self.targets.items():
            if name in self.held or self._lock_session is None:
                continue
            if not await self._try_lock(name):
                continue
            try:
                self.held[name] = await self._load(target)
            except Exception as exc:
                await self._lock_session.execute(store_sql("select_release_target_lock"), {"name": name})
                raise translate(exc) from None
            log.info("target %s (%s): collecting", name, describe_target(target.database_url))

    async def _load(self, target: TargetConfig) -> _Held:
        target_id = await self._store_call(store.target_id, target.name, target.database_url)
        held = _Held(TargetReader(target.database_url, **self.timeouts), target_id,
                     sampler=TargetReader(target.database_url, **self.timeouts),
                     aggregator=Aggregator(_local_cpu_count(target.database_url), self.activity_every_s))
        if self.server_figures:
            held.checks_engine = make_engine(target.database_url, pool_size=1, application_name=APPLICATION_NAME,
                                             **self.timeouts)
        for metric in [*self.metrics, *self.redis_metrics]:
            held.states[metric.name] = await self._store_call(store.load_state, target_id, metric.name, metric.stored.values)
        held.known_queryids = await self._store_call(store.known_queryids, target_id)
        if target.redis_url and self.redis_metrics:
            try:
                held.redis = RedisReader(target.redis_url)
            except PgPulseError as exc:  # a bad Redis URL: logged once, PostgreSQL is collected all the same
                self._problem(f"redis:{target.name}", f"target {target.name}'s Redis", exc)
        return held

    async def _forget(self, name: str) -> None:
        held = self.held.pop(name, None)
        if held is not None:
            await held.reader.close()
            if held.sampler is not None:
                await held.sampler.close()
            if held.checks_engine is not None:
                held.checks_engine.dispose()
            if held.redis is not None:
                await held.redis.close()

    # ---- reading the targets --------------------------------------------------------------------------------------
    async def collect(self, name: str, metric: catalogue.Metric) -> bool:
        """One snapshot of one metric of a held target (PostgreSQL's on its connection, Redis's through its client),
        its batch queued for the store. False when it failed (logged once; nothing stored: a gap, never zeros)."""
        held = self.held.get(name)
        on_redis = metric.source == "redis"
        if held is None or (on_redis and held.redis is None):  # given up meanwhile (another collector polls it)
            return False
        key, what = (f"redis:{name}", f"target {name}'s Redis") if on_redis else (f"target:{name}", f"target {name}")
        try:
            snapshot = await (held.redis.read(metric) if on_redis else held.reader.read(metric, held.known_queryids))
        except PgPulseError as exc:
            if on_redis:
                self._problem(key, what, exc)
            else:
                self._failed(name, held, exc)
            return False
        if on_redis:
            self._fine(key, what)
        else:
            self._reached(name, held)
        if metric.name in self.keep_latest:
            held.latest = {**held.latest, metric.name: snapshot}
        self._queue(name, held, metric, snapshot)
        return True

    def _queue(self, name: str, held: _Held, metric: catalogue.Metric, snapshot) -> None:
        batch, held.states[metric.name] = next_batch(metric, held.states.get(metric.name), snapshot, held.known_queryids)
        held.pending.append(batch)
        if len(held.pending) > MAX_PENDING_BATCHES:  # the store has been down for days: start this target afresh
            log.warning("target %s: %d snapshots waiting for the store; the oldest are dropped", name, len(held.pending))
            held.pending.clear()
            held.states.clear()

    async def sample(self, name: str) -> bool:
        """One active session sample of a held target; a bucket it closes is queued for the store."""
        held = self.held.get(name)
        if held is None or held.sampler is None:
            return False
        try:
            at, rows, tree = await held.sampler.read_sessions()
        except PgPulseError as exc:
            self._failed(name, held, exc)
            return False
        self._reached(name, held)
        closed = held.aggregator.add(at, rows, tree)
        if closed is not None:
            held.buckets.append(closed)
            held.last_bucket = closed
            if len(held.buckets) > MAX_PENDING_BATCHES:
                held.buckets.popleft()
        return True

    async def read_figures(self, name: str, groups: tuple[str, ...]) -> bool:
        """A held target's server-wide figures and the verdicts of the health checks of `groups`, kept in memory."""
        held = self.held.get(name)
        if held is None or held.checks_engine is None:
            return False
        try:
            held.figures = await read_server_figures(held.reader, held.checks_engine, groups, held.figures)
        except PgPulseError as exc:
            self._failed(name, held, exc)
            return False
        self._reached(name, held)
        return True

    def _reached(self, name: str, held: _Held) -> None:
        held.up, held.reached_at = True, time.time()
        self._fine(f"target:{name}", f"target {name}")

    def _failed(self, name: str, held: _Held, exc: PgPulseError) -> None:
        """Logged once per problem; down for /metrics when the server could not be reached (a slow read or a
        missing privilege is not the server being down)."""
        if isinstance(exc, UnreachableError):
            held.up = False
        self._problem(f"target:{name}", f"target {name}", exc)

    def drain_samples(self) -> None:
        """Queue every open bucket, partial (on stop)."""
        for held in self.held.values():
            if (bucket := held.aggregator.drain()) is not None:
                held.buckets.append(bucket)

    async def collect_target(self, name: str) -> bool:
        """Every stored metric of one target, once (they share the target's one connection); False if it failed."""
        for metric in self.metrics:
            if not await self.collect(name, metric):
                return False
        return True

    # ---- writing --------------------------------------------------------------------------------------------------
    async def flush(self) -> bool:
        """Write every queued batch, oldest first (the fleet figures first: one small write, so the Fleet page stays
        current even while a backlog is written). False when the store failed (the batches stay queued)."""
        if not await self._flush_fleet():
            return False
        fleet_written = time.monotonic()
        for name in list(self.held):
            if time.monotonic() - fleet_written > FLEET_WRITE_EVERY_S:  # a long backlog: keep the Fleet page current
                if not await self._flush_fleet():
                    return False
                fleet_written = time.monotonic()
            held = self.held[name]
            while held.pending:
                batch = held.pending[0]
                try:
                    written = await self._store_call(store.write_batch, held.target_id, batch)
                except Exception as exc:
                    self._problem("store", f"history store {self.store_location}", exc)
                    await self._drop_lock_session()
                    return False
                if not written:  # another collector stored this metric meanwhile: its delta covers ours
                    log.info("target %s: %s stored by another collector; giving the target up", name, batch.metric)
                    if self._lock_session is not None:
                        await self._lock_session.execute(store_sql("select_release_target_lock"), {"name": name})
                    await self._forget(name)
                    break
                held.pending.popleft()
                held.known_queryids.update(text["queryid"] for text in batch.texts)
            if not await self._flush_buckets(held):
                return False
        return True

    async def _flush_fleet(self) -> bool:
        names = sorted(self.fleet.unwritten & set(self.held))
        if not names:
            return True
        written = {name: self.fleet.latest[name] for name in names}
        try:
            await self._store_call(fleet_store.write_fleet, [(self.held[name].target_id, figures)
                                                             for name, figures in written.items()])
        except Exception as exc:
            self._problem("store", f"history store {self.store_location}", exc)
            await self._drop_lock_session()
            return False
        # a target polled again meanwhile stays unwritten: its newer figures go next time
        self.fleet.unwritten.difference_update(name for name, figures in written.items()
                                               if self.fleet.latest.get(name) is figures)
        return True

    async def _flush_buckets(self, held: _Held) -> bool:
        while held.buckets:
            try:
                await self._store_call(store.write_activity, held.target_id, held.buckets[0])
            except Exception as exc:
                self._problem("store", f"history store {self.store_location}", exc)
                await self._drop_lock_session()
                return False
            held.buckets.popleft()
        return True

    async def maintain(self, force: bool = False) -> None:
        """Partitions ahead, retention and the hourly roll-up, at most hourly."""
        if not force and time.monotonic() - self._last_maintenance < MAINTENANCE_EVERY_S:
            return
        try:
            await self._store_call(store.partitions_ahead)
            dropped = await self._store_call(store.drop_old_partitions, self.retention_days)
            rolled = await self._store_call(store.roll_up)
        except Exception as exc:
            self._problem("store", f"history store {self.store_location}", exc)
            return
        self._last_maintenance = time.monotonic()
        if dropped or rolled:
            log.info("history store: %d partitions past retention dropped, %d days kept per hour only", len(dropped),
                     len(rolled))

    # ---- the two ways to run ----------------------------------------------------------------------------------------
    async def collect_once(self) -> bool:
        """One collection of every stored metric of every target this collector can hold, and one active session
        sample of each, written. False when the store could not be reached (nothing collected), a target failed or is
        held by another collector, or a write failed (it is kept for the next flush)."""
        if not await self.ensure_store():
            return False
        await self.discover(force=True)
        try:
            await self.claim_targets()
        except PgPulseError as exc:
            self._problem("store", f"history store {self.store_location}", exc)
            return False
        names = list(self.held)
        collected = await asyncio.gather(*(self._collect_and_sample(name) for name in names),
                                         self.fleet.poll_once(self.held_urls()),
                                         *(self.collect(name, metric) for name in names for metric in self.redis_metrics))
        self.drain_samples()
        postgres = collected[:len(names) + 1]  # Redis down: logged, a gap
        return await self.flush() and all(postgres) and len(self.held) == len(self.targets)

    async def _collect_and_sample(self, name: str) -> bool:
        """Every stored metric of a target and one active session sample (a one-sample bucket), for collect_once."""
        return await self.collect_target(name) and await self.sample(name)

    async def run(self, stop: asyncio.Event) -> None:
        """Poll until `stop` is set: each target in its own task at each metric's pace; claims, writes and upkeep in
        this one."""
        tasks: dict[str, asyncio.Task] = {}
        claim_every_s = min(self.paces.values())
        tasks["\0fleet"] = asyncio.create_task(self.fleet.run(stop, self.held_urls))
        try:
            while not stop.is_set():
                if await self.ensure_store():
                    await self.discover()
                    try:
                        await self.claim_targets()
                    except PgPulseError as exc:
                        self._problem("store", f"history store {self.store_location}", exc)
                    await self.maintain()
                for name, held in self.held.items():
                    loops = ((name, self._poll), (f"{name}\0sessions", self._sample_loop),
                             *(((f"{name}\0redis", self._redis_loop),) if held.redis else ()))
                    for key, loop in loops:
                        if key not in tasks or tasks[key].done():
                            tasks[key] = asyncio.create_task(loop(name, stop))
                await self.flush()
                await _wait(stop, min(claim_every_s, 2))
        finally:
            for task in tasks.values():
                task.cancel()
            await asyncio.gather(*tasks.values(), return_exceptions=True)
            self.drain_samples()
            await self.flush()
            await self.close()

    async def _poll(self, name: str, stop: asyncio.Event) -> None:
        while not stop.is_set() and name in self.held:
            held, now = self.held[name], time.monotonic()
            for metric in self.metrics:
                if held.next_due.get(metric.name, 0.0) <= now:
                    held.next_due[metric.name] = now + self.paces[metric.stored.every_setting]
                    # a server down fails every read: wait for the next tick. One read failing (pg_stat_statements
                    # missing, a timeout) does not keep the others from being read
                    if not await self.collect(name, metric) and held.up is False:
                        break
            if self.server_figures and held.up and held.next_due.get(SERVER_FIGURES, 0.0) <= now:
                await self._read_figures_when_due(name, held, now)
            await _wait(stop, max(0.05, min(held.next_due.values()) - time.monotonic()))

    async def _read_figures_when_due(self, name: str, held: _Held, now: float) -> None:
        """Server figures and live checks at the database pace; the catalog checks at the statistics pace."""
        held.next_due[SERVER_FIGURES] = now + self.paces["history_database_seconds"]
        catalog_due = held.next_due.get(CATALOG_CHECKS, 0.0) <= now
        if await self.read_figures(name, ("live", "catalog") if catalog_due else ("live",)) and catalog_due:
            held.next_due[CATALOG_CHECKS] = now + self.catalog_checks_every_s

    async def _sample_loop(self, name: str, stop: asyncio.Event) -> None:
        """A sample every activity_every_s, on the clock (a slow read shortens the next wait, never drifts)."""
        await _on_the_clock(name, self.held, stop, self.activity_every_s, lambda: self.sample(name))

    async def _redis_loop(self, name: str, stop: asyncio.Event) -> None:
        """The Redis metrics every history_redis_seconds, on the clock, apart from PostgreSQL's reads."""
        async def read_all() -> None:
            for metric in self.redis_metrics:
                await self.collect(name, metric)

        await _on_the_clock(name, self.held, stop, float(self.paces["history_redis_seconds"]), read_all)

    async def close(self) -> None:
        for name in list(self.held):
            await self._forget(name)
        await self.fleet.close()
        if self._listing is not None:
            self._listing.cancel()
        await self.discovery.close()
        await self._drop_lock_session()
        await self.store.dispose()


def _local_cpu_count(database_url: str) -> int | None:
    """The CPU count of the target's machine when it is this one (a socket or a loopback address): else unknown."""
    host = normalize_url(database_url).host
    return os.cpu_count() if not host or host.startswith("/") or host in ("localhost", "127.0.0.1", "::1") else None


async def _on_the_clock(name: str, held: dict, stop: asyncio.Event, every_s: float, step) -> None:
    """await step() every every_s while the target is held (a slow step shortens the next wait, never drifts)."""
    due = time.monotonic()
    while not stop.is_set() and name in held:
        await step()
        due = max(due + every_s, time.monotonic())
        await _wait(stop, due - time.monotonic())


async def _wait(stop: asyncio.Event, seconds: float) -> None:
    try:
        await asyncio.wait_for(stop.wait(), timeout=seconds)
    except TimeoutError:
        pass
