"""AppTest: every page loads against a real database, shows its figures and no exception."""
import re

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.config import REPO_ROOT
from dashboard.navigation import PAGES as PAGE_TABLE

APP = str(REPO_ROOT / "dashboard" / "app.py")
PAGES = [f"views/{file}" for file, _, _ in PAGE_TABLE.values()]
SERVER_PAGES = [page for page in PAGES if page != "views/fleet.py"]  # the Fleet page reads the history store only
PROBE = "SELECT count(*) FROM app_probe WHERE id < $1"


def run_page(page: str | None = None) -> AppTest:
    app = AppTest.from_file(APP, default_timeout=60).run()
    if page:
        app.switch_page(page).run()
    return app


def texts(app: AppTest) -> str:
    parts = [element.value for kind in ("markdown", "caption", "error", "warning", "info", "success")
             for element in getattr(app, kind)]
    return "\n".join(str(part) for part in parts)


@pytest.mark.parametrize("page", PAGES)
def test_every_page_loads_without_exception(app_env, page):
    app = run_page(page)
    assert not app.exception, app.exception
    assert not app.error, [error.value for error in app.error]


def test_overview_shows_server_figures(app_env, pg_version):
    app = run_page()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["PostgreSQL"].split(".")[0] == str(pg_version // 10000)
    assert metrics["Connections"].endswith("/ 120")
    assert "pg_stat_statements" in texts(app) and "statements tracked" in texts(app)


def test_queries_page_lists_the_known_statement(app_env):
    app = run_page("views/queries.py")
    frame = app.dataframe[0].value
    row = frame[frame["query"] == PROBE]
    assert len(row) == 1 and int(row["calls"].iloc[0]) == 5


def test_queries_page_text_filter(app_env):
    app = run_page("views/queries.py")
    app.text_input(key="q_text").input("app_probe WHERE").run()
    assert list(app.dataframe[0].value["query"]) == [PROBE]


def test_unreachable_database_is_one_banner_per_page(monkeypatch, tmp_path):
    from demo.postgres import free_port

    port = free_port()
    monkeypatch.setenv("DATABASE_URL", f"postgresql://nobody:secret-pw@127.0.0.1:{port}/nowhere")
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in PAGES:
        app = run_page(page)
        assert not app.exception
        errors = [error.value for error in app.error]
        if page == "views/fleet.py":  # the Fleet page reads the history store only
            continue
        assert errors == [f"**Target default (127.0.0.1:{port}/nowhere): the server cannot be reached.** The server "
                          f'said: connection to server at "127.0.0.1", port {port} failed: Connection refused.\n\n'
                          + errors[0].split("\n\n", 1)[1]], (page, errors)
        assert "Is PostgreSQL running" in errors[0] and "Error" not in errors[0]  # no driver class names
        assert not app.dataframe and not app.metric and not app.get("plotly_chart"), page  # the panels collapsed
        assert not app.text_area and not app.button, page  # Explain's form too: nothing to click that cannot work
        assert "secret-pw" not in texts(app)
    st.cache_resource.clear()


def test_no_target_configured_explains_how(monkeypatch, tmp_path):
    monkeypatch.delenv("DATABASE_URL", raising=False)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_resource.clear()
    app = run_page()
    assert not app.exception
    assert "No database to watch" in texts(app)
    st.cache_resource.clear()


def test_target_picker_switches_database_and_reads_the_url(pg_admin_url, monkeypatch, tmp_path):
    import json

    from sqlalchemy.engine import make_url

    from tests.conftest import create_database

    first = create_database(pg_admin_url, "target_first")
    second = create_database(pg_admin_url, "target_second")
    monkeypatch.setenv("PGPULSE_TARGETS", json.dumps({"first": first, "second": second}))
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()

    def size_label(app):
        return next(metric.label for metric in app.metric if metric.label.startswith("Size of"))

    app = run_page("views/overview.py")  # two targets: the Fleet page opens first
    assert size_label(app) == f"Size of {make_url(first).database}"
    app.selectbox(key="target").select("second").run()
    assert size_label(app) == f"Size of {make_url(second).database}"
    shared_link = AppTest.from_file(APP, default_timeout=60)
    shared_link.query_params["target"] = "second"
    assert size_label(shared_link.run().switch_page("views/overview.py").run()) == f"Size of {make_url(second).database}"
    st.cache_resource.clear()


def test_overview_health_checks_worst_first_coloured_with_the_new_checks(app_env):
    import psycopg

    with psycopg.connect(app_env, autocommit=True) as conn:  # an index nobody uses: one warning, in words
        conn.execute("CREATE INDEX app_probe_unused ON app_probe (id)")
    app = run_page()
    links = [(link.proto.label, link.proto.icon) for link in app.get("page_link")]
    labels = [label for label, _ in links]
    assert "**Blocked sessions**: 0 sessions waiting on another's lock for 5 s or more" in labels, labels
    assert any("**Statement dominating the time**: the busiest statement takes" in label for label in labels), labels
    statuses = ["warn" if icon == ":material/warning:" else "pass" for _, icon in links]
    assert statuses == sorted(statuses, key=["warn", "pass"].index)  # warnings first
    unused = next(label for label in labels if "Unused indexes" in label)
    assert unused.startswith(":orange[**Unused indexes**: ") and unused.endswith(": 1 never-scanned index]")  # colour, singular
    summary = next(str(markdown.value) for markdown in app.markdown if "checks pass" in str(markdown.value))
    assert ":orange[**" in summary and ("check needs a look" in summary or "checks need a look" in summary)
    dominating = next(link.proto for link in app.get("page_link") if "Statement dominating" in link.proto.label)
    words = re.sub(r"^:\w+\[(.*)\]$", r"\1", dominating.label).replace("**", "")
    detail = dominating.help.split("\n\n")[0]  # the whole detail on hover, the label cut to one line
    assert detail.startswith("the busiest statement takes") and words.endswith("…") and len(words) <= 142, words
    assert detail.startswith(words.removeprefix("Statement dominating the time: ").removesuffix("…"))
    [table] = [element for element in app.dataframe if "threshold" in element.value.columns]  # the expander's table
    assert list(table.proto.column_order) == ["status", "check", "detail", "page"]  # figures in words: the detail
    assert set(table.value["status"]) <= {"needs a look", "passes", "could not run"}
    assert "Indexes" in set(table.value["page"]) and "indexes" not in set(table.value["page"])


def test_cache_without_redis_is_one_neutral_note_and_the_interval_gauge_says_when(app_env, monkeypatch):
    monkeypatch.delenv("REDIS_URL")
    st.cache_resource.clear()
    app = run_page("views/cache.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    infos = [str(info.value) for info in app.info]
    assert len([info for info in infos if "REDIS_URL" in info]) == 1, infos
    assert "two readings and the first was just taken: it appears at the next refresh" in " ".join(infos)
    assert len(app.get("plotly_chart")) == 1  # the since-reset gauge; no empty dial for the interval


@pytest.mark.parametrize("pg_server", ["18"], indirect=True)
def test_wrong_password_is_one_banner_in_plain_words(pg_admin_url, monkeypatch, tmp_path):
    import uuid

    import psycopg
    from sqlalchemy.engine import make_url

    role = f"pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE pgpulse_password_auth NOLOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right-password' IN ROLE pgpulse_password_auth")
    wrong = make_url(pg_admin_url).set(username=role, password="wrong-password-123")
    monkeypatch.setenv("DATABASE_URL", wrong.render_as_string(hide_password=False))
    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    for page in ("views/overview.py", "views/activity.py", "views/explain.py"):
        app = run_page(page)
        errors = [str(error.value) for error in app.error]
        assert len(errors) == 1, (page, errors)
        banner = errors[0]
        assert banner.count("pgpulse could not log in") == 1 and banner.count("password authentication failed") == 1
        assert f'for user "{role}"' in banner and "Check the user name and password" in banner
        assert "wrong-password-123" not in texts(app) and "Error" not in banner
        assert not app.metric and not app.dataframe
    st.cache_resource.clear()


def test_redis_interval_hit_ratio_says_in_words_when_it_comes(app_env):
    app = run_page("views/cache.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    assert {metric.label: metric.value for metric in app.metric}["Hit ratio, last interval"] == "–"
    captions = [str(caption.value) for caption in app.caption]
    assert any(caption.startswith("The last interval's hit ratio compares two readings and the first was just taken: "
                                  "it appears at the next refresh") for caption in captions), captions


def test_wait_events_read_in_one_column_of_words(app_env):
    app = run_page("views/activity.py")
    assert not app.exception and not app.error
    [table] = [element for element in app.dataframe if "backend_count" in element.value.columns]
    assert list(table.proto.column_order) == ["wait", "backend_count"]
    assert "running (CPU)" in set(table.value["wait"]) and table.value["wait"].notna().all()  # this page's own read
