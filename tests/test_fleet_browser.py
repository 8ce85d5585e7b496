"""The Fleet page in Chromium with two targets (PostgreSQL 18): one up with a workload and an invalid index, one
down; the store filled by the real collector running; a failing check's link opens its page for its target."""
from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import psycopg
import pytest

from collector import Collector, TargetConfig
from tests.browser_support import CHROMIUM, Dashboard, alert_texts, download_csv, open_page, outside_requests, screenshot, settle
from tests.history_support import FAST_PACES, new_store

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
              pytest.mark.parametrize("pg_server", ["18"], indirect=True)]
DEAD_URL = "postgresql://monitor:s3cret@127.0.0.1:1/billing"


def workload(url: str, seconds: float) -> None:
    deadline = time.monotonic() + seconds
    with psycopg.connect(url, autocommit=True) as conn:
        while time.monotonic() < deadline:
            conn.execute("SELECT count(*) FROM twice")
            time.sleep(0.01)


def collect_for(store: str, targets: dict[str, str], seconds: float, during) -> None:
    collector = Collector([TargetConfig(name, url) for name, url in targets.items()], store,
                          paces={**FAST_PACES, "history_activity_seconds": 0.5}, catalog_checks_every_s=1)
    stop = asyncio.Event()

    async def main() -> None:
        running = asyncio.create_task(collector.run(stop))
        await asyncio.to_thread(during, seconds)
        stop.set()
        await running

    # in a thread of its own: Playwright's sync API keeps an event loop running in this one
    thread = threading.Thread(target=asyncio.run, args=(main(),))
    thread.start()
    thread.join()


def test_the_fleet_page_shows_both_targets_worst_first_and_links_the_failing_check(browser, pg_admin_url, fresh_db,
                                                                                   tmp_path):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE twice AS SELECT 1 AS n UNION ALL SELECT 1")
        with pytest.raises(psycopg.errors.UniqueViolation):  # leaves an INVALID index: a failing catalog check
            conn.execute("CREATE UNIQUE INDEX CONCURRENTLY twice_n ON twice (n)")
    store = new_store(pg_admin_url)
    collect_for(store, {"shop": fresh_db, "billing": DEAD_URL}, 6, lambda seconds: workload(fresh_db, seconds))
    targets = {"shop": {"database_url": fresh_db, "tags": ["prod"]}, "billing": {"database_url": DEAD_URL, "tags": ["prod"]}}
    dashboard = Dashboard({"PGPULSE_TARGETS": json.dumps(targets), "PGPULSE_HISTORY_URL": store}, tmp_path).wait_healthy()
    requested: list[str] = []
    page = open_page(browser, dashboard.url, "Fleet", requested)
    try:
        settle(page)
        rows = download_csv(page, "fleet.csv")
        assert [(row["target"], row["reachable"]) for row in rows] == [("billing", "False"), ("shop", "True")]
        assert "database unreachable" in rows[0]["error"] and "s3cret" not in json.dumps(rows)
        assert float(rows[1]["transactions_per_s"]) > 0 and rows[1]["server_version"].startswith("18")
        assert int(float(rows[1]["failing_checks"])) >= 1
        assert alert_texts(page, "[data-testid='stException']") == []
        screenshot(page, "fleet")
        page.get_by_role("link", name="shop: Invalid indexes — 1 invalid index").click()
        page.locator("h1").filter(has_text="Indexes").first.wait_for(timeout=60_000)
        assert "target=shop" in page.url
        assert page.get_by_text(fresh_db.rsplit("/", 1)[1]).count() >= 1  # the sidebar names shop's database
        assert outside_requests(requested) == []
    finally:
        page.context.close()
        dashboard.stop()
