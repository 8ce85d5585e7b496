"""Continuous discovery in the collector: every server entry (`databases = "*"`) is listed at the database pace, so
a database created later becomes a target ("server/dbname") and a dropped one stops being one. A server that cannot
be listed keeps the databases it had (they then show as unreachable); one never listed yet is one target under the
server's own name, so its reason shows on the Fleet page."""
from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass, field

from collector.reader import TargetReader
from queries.discovery import discovered_targets
from queries.errors import translate

log = logging.getLogger("pgpulse.collector")
LIST_TIMEOUT_S = 10  # the listing runs beside the polls: a slow answer delays no poll


@dataclass(frozen=True)
class ServerConfig:
    """A server whose databases are all targets: its URL (any database on it), include / exclude globs."""

    name: str
    database_url: str = field(repr=False)
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()


class Discovery:
    def __init__(self, servers: list[ServerConfig], every_s: float, *, statement_timeout_ms: int = 5000,
                 lock_timeout_ms: int = 1000):
        self.servers = list(servers)
        self.every_s = float(every_s)
        self._readers = {server.name: TargetReader(server.database_url, statement_timeout_ms=statement_timeout_ms,
                                                   lock_timeout_ms=lock_timeout_ms) for server in self.servers}
        self._found: dict[str, dict[str, str]] = {}  # per server: {target name: URL} as last listed
        self._next = 0.0

    @property
    def targets(self) -> dict[str, str]:
        """{name: URL} of every discovered target (a server never listed yet: itself, under its name)."""
        found: dict[str, str] = {}
        for server in self.servers:
            found.update(self._found.get(server.name, {server.name: server.database_url}))
        return found

    async def refresh(self, force: bool = False) -> bool:
        """List every server again when due (all at once); True when the targets may have changed."""
        if not self.servers or (not force and time.monotonic() < self._next):
            return False
        self._next = time.monotonic() + self.every_s
        listed = await asyncio.gather(*(self._list(server) for server in self.servers))
        for server, targets in zip(self.servers, listed, strict=True):
            if targets is not None:
                self._found[server.name] = targets
        return True

    async def _list(self, server: ServerConfig) -> dict[str, str] | None:
        try:
            rows = await asyncio.wait_for(self._readers[server.name].read_query("select_fleet_databases"), LIST_TIMEOUT_S)
        except Exception as exc:  # keep what it had: those targets show unreachable with the reason
            log.debug("server %s: not listed: %s", server.name, translate(exc))
            return None
        return discovered_targets(server.name, server.database_url, [row["database_name"] for row in rows],
                                  include=server.include, exclude=server.exclude)

    async def close(self) -> None:
        for reader in self._readers.values():
            await reader.close()
