"""The Replication page in Chromium on a real primary with a streaming standby and a slot past 1 GB, and on the
standby itself (PostgreSQL 18; the AppTests in test_replication.py cover 15 too)."""
from pathlib import Path

import pytest

from tests.browser_support import (
    CHROMIUM,
    WARNING_ALERT,
    Dashboard,
    alert_texts,
    download_csv,
    metric_value,
    open_page,
    outside_requests,
    screenshot,
    settle,
)
from tests.test_replication import SLOT, STANDBY_NAME, pair, retain_over_a_gigabyte  # noqa: F401 - pair is a fixture

pytestmark = [pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian's chromium is not installed (.ci/run installs it)"),
              pytest.mark.parametrize("pair", ["18"], indirect=True)]
ERROR_ALERT = "[data-testid='stAlertContentError']"
INFO_ALERT = "[data-testid='stAlertContentInfo']"


@pytest.fixture
def dashboard_on(tmp_path):
    started = []

    def start(url: str) -> Dashboard:
        started.append(Dashboard({"DATABASE_URL": url}, tmp_path).wait_healthy())
        return started[-1]

    yield start
    for dashboard in started:
        dashboard.stop()


def test_the_primary_shows_the_stale_slot_first_then_its_standby(browser, pair, dashboard_on):  # noqa: F811
    primary_cluster = pair[0]
    retain_over_a_gigabyte(primary_cluster)
    dashboard = dashboard_on(primary_cluster.url())
    requested = []
    page = open_page(browser, f"{dashboard.url}/replication", "Replication", requested)
    try:
        assert metric_value(page, "Role") == "primary"
        page.get_by_role("heading", name="Standbys").wait_for()
        settle(page)
        errors = alert_texts(page, ERROR_ALERT)
        assert len(errors) == 1 and f"Inactive replication slots keeping more than 1.0 GB of WAL: {SLOT}" in errors[0]
        standbys = download_csv(page, "replication.csv")
        assert [(row["application_name"], row["state"]) for row in standbys] == [(STANDBY_NAME, "streaming")]
        slots = download_csv(page, "replication_slots.csv")
        assert [(row["slot_name"], row["active"]) for row in slots] == [(SLOT, "False")]
        assert int(slots[0]["retained_wal_bytes"]) > 1024 ** 3
        screenshot(page, "replication-primary")
        assert outside_requests(requested) == []
    finally:
        page.context.close()


def test_the_standby_says_what_it_is(browser, pair, dashboard_on):  # noqa: F811
    dashboard = dashboard_on(pair[1].url())
    page = open_page(browser, f"{dashboard.url}/replication", "Replication")
    try:
        assert metric_value(page, "Role") == "standby"
        page.get_by_role("heading", name="WAL receiver").wait_for()
        settle(page)
        assert any("This server is a standby" in text for text in alert_texts(page, INFO_ALERT))
        assert alert_texts(page, ERROR_ALERT) == [] and alert_texts(page, WARNING_ALERT) == []
        receiver = download_csv(page, "wal_receiver.csv")
        assert [(row["status"], row["sender_port"]) for row in receiver] == [("streaming", str(pair[0].port))]
        screenshot(page, "replication-standby")
    finally:
        page.context.close()
