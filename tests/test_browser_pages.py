"""Every page of the dashboard in headless Chromium, against test databases and a real Redis.

Each configuration runs its own `streamlit run dashboard/app.py` (refresh every 2 s, no
secrets file): one database with known tables, statements and an unused index for the page
tests; two targets for the target switch; a PostgreSQL this module starts and stops itself for
the server-down test; and a Redis URL where nothing listens.  To keep the module short, the
browser tests run on PostgreSQL 18 only: the tests that use the shared server request its "18"
parameter (the data layer is tested on 15 elsewhere).  Screenshots land in screenshots/
(gitignored); grids render on canvas, so table contents are checked through their CSV download.
"""
from __future__ import annotations

import re
import time
import uuid
from pathlib import Path

import psycopg
import pytest
import redis

from demo.postgres import Cluster, embedded_bin_dir, free_port
from queries.catalogue import health_checks_declared
from tests.browser_support import (
    _CONTENT_HEIGHT,
    CHROMIUM,
    ERROR_ALERT,
    EXCEPTION,
    SCREENSHOTS,
    WARNING_ALERT,
    Dashboard,
    alert_texts,
    assert_clean,
    cells_across,
    column_fits_the_window,
    download_csv,
    metric,
    metric_value,
    open_page,
    outside_requests,
    screenshot,
    settle,
    wait_title,
)
from tests.conftest import create_database

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")
ON_PG18 = pytest.mark.parametrize("pg_server", ["18"], indirect=True)

BIG_ROWS = 50_000
PROBE_STATEMENT = "SELECT count(*) FROM browser_probe WHERE id < $1"
PROBE_CALLS = 7
UNUSED_INDEX = "ix_browser_probe_note_unused"
# health checks run every refresh; the catalog ones are cached for minutes and keep their last result
LIVE_CHECKS = [check.name for check, metric in health_checks_declared("postgres") if check.group(metric) == "live"]


def seed(url: str) -> None:
    """A 50,000-row table for EXPLAIN, a statement run exactly PROBE_CALLS times, an index never used."""
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(f"CREATE TABLE browser_big AS SELECT g AS id, g % 500 AS v FROM generate_series(1, {BIG_ROWS}) g")
        conn.execute("ANALYZE browser_big")
        conn.execute("CREATE TABLE browser_probe (id int PRIMARY KEY, note text)")
        conn.execute("INSERT INTO browser_probe SELECT g, 'note ' || g FROM generate_series(1, 1000) g")
        conn.execute(f"CREATE INDEX {UNUSED_INDEX} ON browser_probe (note)")
        for limit in range(PROBE_CALLS):
            conn.execute("SELECT count(*) FROM browser_probe WHERE id < %s", (limit,))


def drop_database(admin_url: str, name: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def big_rows(url: str) -> int:
    with psycopg.connect(url) as conn:
        return conn.execute("SELECT count(*) FROM browser_big").fetchone()[0]


@pytest.fixture(scope="module")
def main_db(pg_admin_url):
    name = f"browser_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_admin_url, name)
    seed(url)
    yield name, url
    drop_database(pg_admin_url, name)


@pytest.fixture(scope="module")
def main_dashboard(main_db, redis_url, tmp_path_factory):
    dashboard = Dashboard({"DATABASE_URL": main_db[1], "REDIS_URL": redis_url}, tmp_path_factory.mktemp("main"))
    try:
        yield dashboard.wait_healthy()
    finally:
        dashboard.stop()


def check_overview(page, db_name: str, redis_url: str) -> None:
    page.get_by_role("heading", name="Health checks").first.wait_for()
    assert metric_value(page, "PostgreSQL").startswith("18.")
    metric_value(page, f"Size of {db_name}")
    page.get_by_text(re.compile(r"^pg_stat_statements [\d.]+: [\d,]+ statements tracked$")).first.wait_for()


def check_queries(page, db_name: str, redis_url: str) -> None:
    page.get_by_text("Calls vs mean time").first.wait_for()
    page.get_by_role("button", name="Download statements.csv").wait_for()


def check_explain(page, db_name: str, redis_url: str) -> None:
    page.locator("[data-testid='stTextArea'] textarea").wait_for()
    page.get_by_role("button", name="Explain", exact=True).click()  # nothing pasted yet
    page.get_by_text("Paste a statement first.").wait_for()


def check_activity(page, db_name: str, redis_url: str) -> None:
    page.get_by_role("heading", name="Blocking tree").first.wait_for()
    page.get_by_text("No session is blocked by another.").first.wait_for()
    assert metric_value(page, "Connections").endswith("/ 120")  # max_connections of the test servers
    page.get_by_role("heading", name="All sessions").wait_for()
    settle(page)
    starts = {row["query"][:40] for row in download_csv(page, "activity.csv") if row["query"]}
    cells = cells_across(page, page.locator("[data-testid='stDataFrame']").last)

    def a_statement(value: str) -> bool:  # a copied cell of several lines comes quoted
        return bool(value) and value.strip('"')[:40] in starts

    assert column_fits_the_window(cells, a_statement), " | ".join(value[:30] for _, value in cells)  # no sideways scroll


def check_space(page, db_name: str, redis_url: str) -> None:
    page.get_by_text("Size by schema and table").first.wait_for()
    tables = {row["table_name"] for row in download_csv(page, "table_sizes.csv")}
    assert {"browser_big", "browser_probe"} <= tables


def check_indexes(page, db_name: str, redis_url: str) -> None:
    page.get_by_role("heading", name="Unused indexes").first.wait_for()
    unused = {row["index_name"]: row for row in download_csv(page, "unused_indexes.csv")}
    assert unused[UNUSED_INDEX]["fix_sql"] == f"DROP INDEX CONCURRENTLY public.{UNUSED_INDEX};"
    assert "browser_probe_pkey" not in unused  # a primary key is never offered for dropping
    settle(page)
    cells = cells_across(page, page.locator("[data-testid='stDataFrame']").first)
    assert column_fits_the_window(cells, lambda value: value.startswith("DROP INDEX CONCURRENTLY")), cells


def check_maintenance(page, db_name: str, redis_url: str) -> None:
    page.get_by_role("heading", name="Transaction-ID wraparound").first.wait_for()
    assert db_name in {row["database_name"] for row in download_csv(page, "wraparound.csv")}


def check_cache(page, db_name: str, redis_url: str) -> None:
    page.get_by_text("Buffer cache hit ratio, since reset").first.wait_for()
    version = redis.Redis.from_url(redis_url).info("server")["redis_version"]
    assert metric_value(page, "Redis") == version


def check_settings(page, db_name: str, redis_url: str) -> None:
    page.get_by_role("button", name="Download settings.csv").wait_for()
    by_name = {row["name"]: row for row in download_csv(page, "settings.csv")}
    assert by_name["shared_buffers"]["value_display"] == "128MB"  # DEMO_SETTINGS of the test servers


PAGES = [("", "Overview", check_overview), ("queries", "Queries", check_queries), ("explain", "Explain", check_explain),
         ("activity", "Activity", check_activity), ("space", "Space", check_space), ("indexes", "Indexes", check_indexes),
         ("maintenance", "Maintenance", check_maintenance), ("cache", "Cache", check_cache),
         ("settings", "Settings", check_settings)]


@ON_PG18
@pytest.mark.parametrize("path, title, check", PAGES, ids=[title.lower() for _, title, _ in PAGES])
def test_every_page_shows_its_content_without_errors(browser, main_dashboard, main_db, redis_url, path, title, check):
    requested = []
    page = open_page(browser, f"{main_dashboard.url}/{path}", title, requested)
    try:
        check(page, main_db[0], redis_url)
        settle(page)
        screenshot(page, title.lower())
        assert_clean(page)
        assert outside_requests(requested) == []  # favicon and icons included: nothing fetched from outside
        assert any(url.startswith(main_dashboard.url) for url in requested)  # the listener did record the page
    finally:
        page.context.close()


@ON_PG18
def test_overview_also_answers_at_its_own_path(browser, main_dashboard, main_db, redis_url):
    page = open_page(browser, f"{main_dashboard.url}/overview", "Overview")
    try:
        check_overview(page, main_db[0], redis_url)
        assert page.get_by_text("Page not found").count() == 0
        assert_clean(page)
    finally:
        page.context.close()


def type_and_click_explain(page, sql: str) -> None:
    """Paste and click at once, as people do: no blur first, the first click must run it."""
    text_area = page.locator("[data-testid='stTextArea'] textarea")
    text_area.click()
    text_area.fill(sql)
    page.get_by_role("button", name="Explain", exact=True).click()


@ON_PG18
def test_explain_runs_on_the_first_click_compares_and_refuses_a_drop(browser, main_dashboard, main_db):
    page = open_page(browser, f"{main_dashboard.url}/explain", "Explain")
    try:
        type_and_click_explain(page, "SELECT * FROM browser_big WHERE v = 7")
        flag = page.locator(WARNING_ALERT).filter(has_text="CREATE INDEX")
        flag.wait_for(timeout=60_000)
        assert "Seq Scan on browser_big" in flag.inner_text()
        assert "CREATE INDEX ON browser_big (v)" in flag.inner_text()
        assert metric_value(page, "Rows") == f"{BIG_ROWS // 500}"
        assert page.get_by_text(re.compile(r"^Plan tree sized by")).count() == 0  # one node: no chart
        assert_clean(page)

        type_and_click_explain(page, "SELECT v, count(*) FROM browser_big GROUP BY v ORDER BY 2 DESC LIMIT 20")
        page.get_by_text(re.compile(r"^Plan tree sized by")).first.wait_for(timeout=60_000)
        page.get_by_role("heading", name="Compare two runs").wait_for()
        assert metric_value(page, "Rows") == "20"
        comparison = {row["metric"]: row for row in download_csv(page, "plan_comparison.csv")}
        assert float(comparison["root_rows"]["before"]) == BIG_ROWS // 500 and float(comparison["root_rows"]["after"]) == 20
        assert "ArrowInvalid" not in main_dashboard.output()  # the comparison once mixed numbers and names in a column
        settle(page)
        assert_clean(page)
        page.set_viewport_size({"width": 1440, "height": 900})
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "explain_first_screen_1440.png")
        height = min(int(page.evaluate(_CONTENT_HEIGHT)), 12_000)
        page.set_viewport_size({"width": 1440, "height": max(height, 900)})
        page.wait_for_timeout(800)
        page.screenshot(path=SCREENSHOTS / "explain_plan_and_comparison_1440.png", full_page=True)
        page.set_viewport_size({"width": 1440, "height": 900})

        type_and_click_explain(page, "DROP TABLE browser_big")
        refusal = page.locator(ERROR_ALERT).filter(has_text="Not run: DROP TABLE is not allowed")
        refusal.wait_for(timeout=30_000)
        assert page.locator(EXCEPTION).count() == 0
        assert metric(page, "Rows").count() == 0  # the earlier plan is gone, not shown as the refused one's
        screenshot(page, "explain_refused")
    finally:
        page.context.close()
    assert big_rows(main_db[1]) == BIG_ROWS


@ON_PG18
def test_statements_csv_has_the_exact_calls(browser, main_dashboard):
    page = open_page(browser, f"{main_dashboard.url}/queries", "Queries")
    try:
        page.get_by_text("Calls vs mean time").first.wait_for()
        page.get_by_label("Statement text contains").fill("browser_probe")
        page.get_by_label("Statement text contains").press("Enter")
        deadline = time.monotonic() + 60
        while True:  # the filter applies on the next run; the CSV holds exactly the rows shown
            rows = download_csv(page, "statements.csv")
            if rows and all("browser_probe" in row["query"] for row in rows):
                break
            assert time.monotonic() < deadline, [row["query"] for row in rows]
            page.wait_for_timeout(500)
        by_query = {row["query"]: row for row in rows}
        assert by_query[PROBE_STATEMENT]["calls"] == str(PROBE_CALLS)
        assert_clean(page)
    finally:
        page.context.close()


@ON_PG18
def test_switching_targets_follows_the_url(browser, pg_admin_url, redis_url, tmp_path):
    names = [f"browser_first_{uuid.uuid4().hex[:6]}", f"browser_second_{uuid.uuid4().hex[:6]}"]
    urls = [create_database(pg_admin_url, name) for name in names]
    targets = f'{{"first": "{urls[0]}", "second": "{urls[1]}"}}'
    dashboard = Dashboard({"PGPULSE_TARGETS": targets, "REDIS_URL": redis_url}, tmp_path)
    try:
        dashboard.wait_healthy()
        # with two targets the Fleet page comes first: the Overview is at /overview
        page = open_page(browser, f"{dashboard.url}/overview", "Overview")
        metric_value(page, f"Size of {names[0]}")
        page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Target").click()
        page.get_by_role("option", name="second", exact=True).click()
        page.wait_for_url(re.compile(r"[?&]target=second\b"), timeout=30_000)
        metric_value(page, f"Size of {names[1]}")
        assert metric(page, f"Size of {names[0]}").count() == 0
        settle(page)
        screenshot(page, "overview_second_target")
        assert_clean(page)
        page.context.close()

        page = open_page(browser, f"{dashboard.url}/overview?target=second", "Overview")
        metric_value(page, f"Size of {names[1]}")
        assert page.locator("[data-testid='stSidebar']").get_by_role("combobox", name="Target").input_value() == "second"
        page.context.close()
    finally:
        dashboard.stop()
        for name in names:
            drop_database(pg_admin_url, name)


def wait_for_reload(page, condition, what: str, timeout: float = 90) -> None:
    """Reload the page until condition(page) holds (the data is cached for one 2-s refresh)."""
    deadline = time.monotonic() + timeout
    while True:
        page.reload()
        wait_title(page, "Overview")
        page.wait_for_timeout(1500)
        if condition(page):
            return
        assert time.monotonic() < deadline, f"{what}: {alert_texts(page, ERROR_ALERT)}"
        time.sleep(1)


BANNER = "the server cannot be reached"


def one_unreachable_banner(page) -> bool:
    """The page is one banner saying the server cannot be reached, said once, and no panel under it."""
    errors = alert_texts(page, ERROR_ALERT)
    return (len(errors) == 1 and errors[0].count(BANNER) == 1 and "Is PostgreSQL running" in errors[0]
            and page.locator("[data-testid='stMetric']").count() == 0
            and page.locator("[data-testid='stMain'] [data-testid='stPageLink']").count() == 0)


def metrics_are_back(page) -> bool:
    value = metric(page, "PostgreSQL").locator("[data-testid='stMetricValue']")
    return value.count() == 1 and value.inner_text().startswith("18.") and page.locator(ERROR_ALERT).count() == 0


def test_server_down_and_back(browser, redis_url, tmp_path):
    cluster = Cluster(embedded_bin_dir(), tmp_path / "data")
    dashboard = None
    try:
        cluster.start()
        url = create_database(cluster.url("postgres"), "browser_fault")
        dashboard = Dashboard({"DATABASE_URL": url, "REDIS_URL": redis_url}, tmp_path)
        dashboard.wait_healthy()
        page = open_page(browser, dashboard.url, "Overview")
        assert metric_value(page, "PostgreSQL").startswith("18.")
        settle(page)
        assert_clean(page)
        left_open = open_page(browser, f"{dashboard.url}/replication", "Replication")  # nobody reloads this one
        left_open.get_by_role("heading", name="Checkpoints").first.wait_for()

        cluster.stop()
        wait_for_reload(page, one_unreachable_banner, "the page never became one 'cannot be reached' banner")
        # its auto-refresh notices and turns the whole page into the banner, not an error per panel
        left_open.locator(ERROR_ALERT).filter(has_text=BANNER).first.wait_for(timeout=30_000)
        settle(left_open)
        assert one_unreachable_banner(left_open), alert_texts(left_open, ERROR_ALERT)
        left_open.context.close()
        assert page.locator(EXCEPTION).count() == 0
        main_text = page.locator("[data-testid='stMain']").inner_text()
        assert "Traceback" not in main_text and "OperationalError" not in main_text
        assert main_text.count(BANNER) == 1
        screenshot(page, "overview_database_down")
        page.locator("[data-testid='stSidebar'] a[href$='/activity']").click()  # the sidebar still works
        page.locator(ERROR_ALERT).filter(has_text=BANNER).first.wait_for(timeout=30_000)
        settle(page)
        assert one_unreachable_banner(page), alert_texts(page, ERROR_ALERT)
        assert page.locator(EXCEPTION).count() == 0
        screenshot(page, "activity_database_down")

        cluster.start()  # the banner re-checks at the refresh pace: the page comes back without a reload
        page.get_by_role("heading", name="Blocking tree").first.wait_for(timeout=60_000)
        assert page.locator(ERROR_ALERT).count() == 0
        page.goto(dashboard.url)
        wait_title(page, "Overview")
        wait_for_reload(page, metrics_are_back, "the metrics did not come back after the restart")
        settle(page)
        assert_clean(page)
        screenshot(page, "overview_database_back")
    finally:
        if dashboard:
            dashboard.stop()
        cluster.stop(mode="immediate")


@ON_PG18
def test_redis_down_keeps_postgres_panels(browser, main_db, tmp_path):
    dead_redis = f"redis://127.0.0.1:{free_port()}/0"
    dashboard = Dashboard({"DATABASE_URL": main_db[1], "REDIS_URL": dead_redis}, tmp_path)
    try:
        dashboard.wait_healthy()
        page = open_page(browser, f"{dashboard.url}/cache", "Cache")
        page.get_by_text("Buffer cache hit ratio, since reset").first.wait_for(timeout=60_000)
        page.get_by_role("button", name="Download table_cache_hit.csv").wait_for()
        page.locator(ERROR_ALERT).first.wait_for(timeout=60_000)
        settle(page)
        errors = alert_texts(page, ERROR_ALERT)
        assert len(errors) == 1 and "Redis cannot be read: Redis is unreachable" in errors[0], errors
        assert page.locator(EXCEPTION).count() == 0
        assert metric(page, "Redis").count() == 0
        screenshot(page, "cache_redis_down")
        page.context.close()
    finally:
        dashboard.stop()
