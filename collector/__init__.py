"""pgpulse's collector (`python -m dashboard collect`): asyncio + asyncpg, no Streamlit. See collector/core.py."""
from __future__ import annotations

import asyncio
import logging
import signal

from collector.core import Collector, TargetConfig
from collector.discovery import ServerConfig

__all__ = ["Collector", "MetricsUnavailable", "ServerConfig", "TargetConfig", "run"]


class MetricsUnavailable(Exception):
    """/metrics cannot listen on its port (taken, or not allowed); the message says which."""


def run(targets: list[TargetConfig], history_url: str, *, once: bool = False,
        metrics_at: tuple[str, int] | None = None, **options) -> int:
    """Collect until SIGTERM / Ctrl-C (or one collection with once=True); 0 when all went well. With metrics_at
    (host, port), serve the latest figures on http://host:port/metrics meanwhile (raises MetricsUnavailable)."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Running upgrade ..." on every start says nothing useful
    return asyncio.run(_main(targets, history_url, once, metrics_at, options))


async def _main(targets: list[TargetConfig], history_url: str, once: bool, metrics_at: tuple[str, int] | None,
                options: dict) -> int:
    if metrics_at is not None:
        from collector import prometheus  # prometheus_client is loaded only when /metrics is served

        collector = Collector(targets, history_url, keep_latest=prometheus.METRICS_READ, server_figures=True, **options)
        server = prometheus.MetricsServer(collector, *metrics_at)
        try:
            return await _collect(collector, once)
        finally:
            server.close()
    return await _collect(Collector(targets, history_url, **options), once)


async def _collect(collector: Collector, once: bool) -> int:
    if once:
        try:
            ok = await collector.collect_once()
        finally:
            await collector.close()
        return 0 if ok else 1
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    logging.getLogger("pgpulse.collector").info("collecting %d target(s) into %s", len(collector.targets),
                                                collector.store_location)
    await collector.run(stop)
    logging.getLogger("pgpulse.collector").info("stopped")
    return 0
