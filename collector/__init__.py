"""pgpulse's collector (`python -m dashboard collect`): asyncio + asyncpg, no Streamlit. See collector/core.py."""
from __future__ import annotations

import asyncio
import logging
import signal

from collector.core import Collector, TargetConfig
from collector.discovery import ServerConfig

__all__ = ["Collector", "ServerConfig", "TargetConfig", "run"]


def run(targets: list[TargetConfig], history_url: str, *, once: bool = False, **options) -> int:
    """Collect until SIGTERM / Ctrl-C (or one collection with once=True); 0 when all went well."""
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(name)s %(levelname)s %(message)s")
    logging.getLogger("alembic").setLevel(logging.WARNING)  # "Running upgrade ..." on every start says nothing useful
    return asyncio.run(_main(targets, history_url, once, options))


async def _main(targets: list[TargetConfig], history_url: str, once: bool, options: dict) -> int:
    collector = Collector(targets, history_url, **options)
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
    logging.getLogger("pgpulse.collector").info("collecting %d target(s) into %s", len(targets), collector.store_location)
    await collector.run(stop)
    logging.getLogger("pgpulse.collector").info("stopped")
    return 0
