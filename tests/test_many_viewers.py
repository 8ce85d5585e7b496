"""Many viewers in a real browser: 20 sessions refreshing every 2 s for a minute, split over two
dashboard processes that share one Redis cache. No session errors, and the monitored database
sees one set of monitoring queries per refresh interval, not one per viewer.

Runs on PostgreSQL 18 only (one server is enough to count queries; the data layer is tested on both)."""
from __future__ import annotations

import time
from pathlib import Path

import psycopg
import pytest

from tests.browser_support import CHROMIUM, CHROMIUM_FLAGS, ERROR_ALERT, EXCEPTION, Dashboard

VIEWERS, PROCESSES, REFRESH_S, DURATION_S = 20, 2, 2, 60
SUMMARY_QUERY = "%pg_postmaster_start_time()%"  # the Overview's server summary, one statement per refresh

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed"),
              pytest.mark.timeout(600)]


def summary_calls(url: str) -> int:
    with psycopg.connect(url) as conn:
        row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE %s AND dbid = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())", (SUMMARY_QUERY,)).fetchone()
    return int(row[0])


def test_twenty_viewers_cost_one_query_set_per_interval(fresh_db, pg_version, redis_url, tmp_path):
    if pg_version < 180000:
        pytest.skip("counted once, on PostgreSQL 18")
    from playwright.sync_api import sync_playwright

    env = {"DATABASE_URL": fresh_db, "PGPULSE_CACHE_REDIS_URL": redis_url, "PGPULSE_REFRESH_SECONDS": str(REFRESH_S)}
    dashboards = [Dashboard(env, tmp_path) for _ in range(PROCESSES)]
    try:
        for dashboard in dashboards:
            dashboard.wait_healthy()
        with sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
            pages = [browser.new_page() for _ in range(VIEWERS)]
            for index, page in enumerate(pages):
                page.goto(dashboards[index % PROCESSES].url, wait_until="commit", timeout=90_000)
            for page in pages:
                page.get_by_text("Health checks").first.wait_for(timeout=90_000)
            before, started = summary_calls(fresh_db), time.monotonic()
            time.sleep(DURATION_S)
            during = summary_calls(fresh_db) - before
            elapsed = time.monotonic() - started
            problems = [(index, page.locator(f"{EXCEPTION}, {ERROR_ALERT}").all_inner_texts())
                        for index, page in enumerate(pages)]
            browser.close()
    finally:
        for dashboard in dashboards:
            dashboard.stop()
    assert all(not texts for _, texts in problems), problems
    intervals = elapsed / REFRESH_S
    # one query set per interval, plus bucket edges and the odd peer that waited out WAIT_FOR_PEER_S on a loaded
    # machine; unshared, two processes would cost twice that and every viewer VIEWERS times that
    assert 1 <= during <= intervals * 1.3 + 3, f"{during} server summaries in {elapsed:.0f} s for {VIEWERS} viewers"
