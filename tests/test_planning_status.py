"""Whether pg_stat_statements times planning, read from the server and said on the Queries page."""
import json
import os

import psycopg
import streamlit as st

from queries.connection import make_engine
from queries.statements import statements_status
from tests.conftest import create_database
from tests.test_app import run_page, texts
from tests.test_columns import with_history  # noqa: F401 - a fixture

NOTE = "Planning times read 0: pg_stat_statements.track_planning is off"


def test_status_says_whether_planning_is_timed(fresh_db):
    status = statements_status(make_engine(fresh_db))
    assert status.tracks_planning is True and status.planning_note is None  # the test servers use the demo's settings
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{database}" SET pg_stat_statements.track_planning = off')
    status = statements_status(make_engine(fresh_db))
    assert status.tracks_planning is False
    assert status.planning_note.startswith(NOTE)
    assert "ALTER SYSTEM SET pg_stat_statements.track_planning = on" in status.planning_note


def test_without_the_library_it_cannot_tell(pg_no_preload):
    status = statements_status(make_engine(create_database(pg_no_preload.url(), "noplanning")))
    assert status.tracks_planning is None and status.planning_note is None


def test_queries_page_says_so_next_to_the_plan_column_only_when_off(app_env):
    assert NOTE not in texts(run_page("views/queries.py"))
    with psycopg.connect(app_env, autocommit=True) as conn:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{database}" SET pg_stat_statements.track_planning = off')
    st.cache_data.clear()
    st.cache_resource.clear()  # pooled sessions keep the database's settings of when they connected
    app = run_page("views/queries.py")
    assert not app.exception
    assert texts(app).count(NOTE) == 1 and "Planning time: Planning" not in texts(app)  # said once, in one wording
    [table] = [element for element in app.dataframe if "total_plan_time_ms" in element.value.columns]
    assert NOTE in json.loads(table.proto.columns)["total_plan_time_ms"]["help"]  # on the column it explains too


def test_the_note_shows_over_the_time_range_too(with_history):  # noqa: F811 - a fixture
    with psycopg.connect(os.environ["DATABASE_URL"], autocommit=True) as conn:
        database = conn.execute("SELECT current_database()").fetchone()[0]
        conn.execute(f'ALTER DATABASE "{database}" SET pg_stat_statements.track_planning = off')
    st.cache_data.clear()
    st.cache_resource.clear()
    app = run_page("views/queries.py")
    assert not app.exception and app.radio(key="q_figures").value == "Over the time range"
    assert texts(app).count(NOTE) == 1
