"""Slow panels (statistics, sizes) are re-read at their own pace, say how old they are, and
"Refresh now" reads them at once: against a real database, through AppTest."""
import psycopg
from streamlit.testing.v1 import AppTest

from dashboard.config import DEFAULT_SIZE_REFRESH_S, DEFAULT_STATS_REFRESH_S, REPO_ROOT, load_settings

APP = str(REPO_ROOT / "dashboard" / "app.py")


def open_page(page: str) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    app.switch_page(page).run()
    assert not app.exception, app.exception
    return app


def unused_index_names(app: AppTest) -> list[str]:
    return sorted(app.dataframe[0].value["index_name"])


def captions(app: AppTest) -> list[str]:
    return [str(caption.value) for caption in app.caption]


def test_paces_default_and_configurable(tmp_path):
    none = tmp_path / "none.toml"
    defaults = load_settings({"DATABASE_URL": "postgresql://h/db", "PGPULSE_SECRETS": str(none)})
    assert (defaults.refresh_seconds, defaults.stats_refresh_seconds, defaults.size_refresh_seconds) == (
        10, DEFAULT_STATS_REFRESH_S, DEFAULT_SIZE_REFRESH_S) == (10, 300, 600)
    configured = load_settings({"DATABASE_URL": "postgresql://h/db", "PGPULSE_SECRETS": str(none),
                                "PGPULSE_STATS_REFRESH_SECONDS": "120", "PGPULSE_SIZE_REFRESH_SECONDS": "3600"})
    assert (configured.stats_refresh_seconds, configured.size_refresh_seconds) == (120, 3600)


def test_indexes_page_keeps_statistics_until_refresh_now(app_env, monkeypatch):
    # a day-long pace: the cache's time bucket cannot roll over between the two reads below
    monkeypatch.setenv("PGPULSE_STATS_REFRESH_SECONDS", "86400")
    with psycopg.connect(app_env, autocommit=True) as conn:
        conn.execute("CREATE INDEX first_unused ON app_probe (id)")
    app = open_page("views/indexes.py")
    assert unused_index_names(app) == ["first_unused"]
    assert "Read just now; re-read every 1 d 0 h." in captions(app), captions(app)

    with psycopg.connect(app_env, autocommit=True) as conn:
        conn.execute("CREATE INDEX second_unused ON app_probe ((id + 1))")
    app.run()  # the page's next refresh: statistics are kept for their pace
    assert unused_index_names(app) == ["first_unused"]

    app.button(key="i_refresh").click().run()
    assert unused_index_names(app) == ["first_unused", "second_unused"]


def test_space_page_says_how_old_exact_sizes_are(app_env):
    app = open_page("views/space.py")
    ages = [text for text in captions(app) if text.startswith("Read ")]
    assert len(ages) == 3 and all(text.endswith("; re-read every 10 min.") for text in ages), captions(app)


def statements_query_calls(url: str) -> int:
    """How often pgpulse's statements listing (select_statements.sql, marked /* pgpulse */) has run."""
    with psycopg.connect(url, autocommit=True) as conn:
        row = conn.execute("SELECT coalesce(sum(calls), 0) FROM pg_stat_statements WHERE query LIKE '%/* pgpulse */%' "
                           "AND query LIKE '%percent_of_total_time%' AND dbid = "
                           "(SELECT oid FROM pg_database WHERE datname = current_database())").fetchone()
    return int(row[0])


def test_overview_and_queries_page_share_one_statements_read(app_env, monkeypatch):
    monkeypatch.setenv("PGPULSE_REFRESH_SECONDS", "300")  # both pages inside one cache bucket
    app = AppTest.from_file(APP, default_timeout=60).run()  # the Overview: its top 5 statements
    assert not app.exception, app.exception
    after_overview = statements_query_calls(app_env)
    assert after_overview >= 1  # (the slow-statement health check reads the same listing, sorted by mean time)
    app.switch_page("views/queries.py").run()
    assert not app.exception, app.exception
    assert len(app.dataframe[0].value) > 0
    assert statements_query_calls(app_env) == after_overview  # the Queries page's default view was already read
