"""Both advisors in a real browser: the Queries page's N+1 suspects and the Indexes page's suggested indexes, their
CSV downloads holding the exact rows (headless Chromium, PostgreSQL 18 without HypoPG)."""
import pytest

from tests.browser_support import Dashboard, assert_clean, download_csv, open_page, screenshot, settle
from tests.test_advisor_indexes import PARTIAL, TRIGRAM, _workload
from tests.test_n_plus_one import ROUNDS, _feed, blog  # noqa: F401 - blog is a fixture

ON_PG18 = pytest.mark.parametrize("pg_server", ["18"], indirect=True)


@ON_PG18
def test_the_advisors_pages_show_the_loop_and_the_indexes(browser, blog, fresh_db, redis_url, tmp_path):  # noqa: F811
    _workload(fresh_db, hypopg=False)  # resets the statistics: the loop below runs after
    for _ in range(ROUNDS):
        _feed(blog)
    dashboard = Dashboard({"DATABASE_URL": fresh_db, "REDIS_URL": redis_url}, tmp_path).wait_healthy()
    try:
        page = open_page(browser, f"{dashboard.url}/queries", "Queries")
        page.get_by_role("heading", name="N+1 suspects").first.wait_for(timeout=60_000)
        suspects = {row["foreign_key"]: row for row in download_csv(page, "n_plus_one.csv")}
        assert sorted(suspects) == ["comments.post_id -> posts.id", "posts.author_id -> users.id"]
        assert suspects["comments.post_id -> posts.id"]["calls"] == "100"
        settle(page)
        screenshot(page, "advisor_queries")
        assert_clean(page)
        page.context.close()
        page = open_page(browser, f"{dashboard.url}/indexes", "Indexes")
        page.get_by_role("heading", name="Suggested indexes").first.wait_for(timeout=60_000)
        suggested = {row["create_index"]: row for row in download_csv(page, "suggested_indexes.csv")}
        assert {"CREATE INDEX ON orders (customer_id)", PARTIAL, TRIGRAM} <= set(suggested)
        assert suggested["CREATE INDEX ON orders (customer_id)"]["verified"] == "False"
        page.get_by_text("Not verified: install the hypopg extension").first.wait_for()
        settle(page)
        screenshot(page, "advisor_indexes")
        assert_clean(page)
        page.context.close()
    finally:
        dashboard.stop()
