"""Every table a page shows speaks people's words: a header with its unit from dashboard/columns.py for every
column, values formatted (durations, sizes, percentages, thousands) while the CSV keeps the raw names."""
import json
import re
from datetime import UTC, datetime, timedelta

import pandas as pd
import pytest

from dashboard.columns import COLUMNS, FORMATTERS, describe, display
from tests.test_app import PAGES, run_page

ON_PG18 = pytest.mark.parametrize("pg_server", ["18"], indirect=True)


def shown_columns(app) -> list[tuple[str, dict]]:
    """(column name, its column config as the browser receives it) for every column of every table on the page."""
    found = []
    for element in app.dataframe:
        config = json.loads(element.proto.columns or "{}")
        found += [(name, config.get(name, {})) for name in element.value.columns]
    return found


@ON_PG18
def test_every_column_of_every_page_has_a_label_from_the_registry(app_env):
    seen = {}
    for page in PAGES:
        app = run_page(page)
        assert not app.exception, page
        for name, config in shown_columns(app):
            seen[name] = page
            assert name in COLUMNS, f"{page}: column {name!r} is not in dashboard/columns.py"
            assert config.get("label") == COLUMNS[name].label, (page, name, config)
            assert "_" not in config["label"], (page, name, config)
    assert {"total_exec_time_ms", "percent_towards_freeze_max_age", "usec_per_call", "idx_blks_hit",
            "schema_name"} <= set(seen)  # the ones the issue named, on the pages that show them


def test_values_read_like_a_person_wrote_them():
    assert FORMATTERS["ms"](70_000) == "1 min 10 s" and FORMATTERS["ms"](284.4) == "284 ms"
    assert FORMATTERS["us"](4) == "4 µs" and FORMATTERS["seconds"](10) == "10 s"
    assert FORMATTERS["bytes"](167_190_528) == "159.4 MB"
    assert FORMATTERS["hit_ratio"](0.99934) == "99.93 %" and FORMATTERS["ratio"](0.5) == "50.0 %"
    assert FORMATTERS["percent"](87.04299999999999) == "87.0 %"
    assert FORMATTERS["count"](12345) == "12,345" and FORMATTERS["count"](2**63 - 1) == "9,223,372,036,854,775,807"
    assert FORMATTERS["number"](87.04299999999999) == "87.04" and FORMATTERS["number"](12.0) == "12"
    assert {FORMATTERS[kind](None) for kind in FORMATTERS} == {"–"}


def test_a_column_not_listed_gets_its_unit_from_its_suffix():
    assert describe("exclusive_ms").kind == "ms" and describe("exclusive_ms").label == "Exclusive"
    assert describe("spill_bytes").kind == "bytes" and describe("node_type").label == "Node type"


def test_display_keeps_numbers_sortable_and_times_in_words():
    frame = pd.DataFrame({"size_bytes": [2048, None], "last_vacuum": [pd.Timestamp("2026-01-02 03:04:05", tz="UTC"), None],
                          "max_value": [2**63 - 1, 5]})
    styled, config = display(frame)
    data = styled.data
    assert data["size_bytes"].dtype.kind == "f"  # still numbers: the grid sorts them as numbers
    assert list(data["last_vacuum"]) == ["2026-01-02 03:04 UTC", "never"]
    assert list(data["max_value"]) == ["9,223,372,036,854,775,807", "5"]  # past 2**53 the browser would round it
    assert {name: config[name]["label"] for name in frame.columns} == {
        "size_bytes": "Size", "last_vacuum": "Last vacuum", "max_value": "Maximum"}
    assert ">2.0 kB<" in styled.to_html()


@pytest.fixture
def with_history(app_env, pg_admin_url, monkeypatch):
    """A history store for the app_env target ("default"): 70 minutes of one statement that got 3x slower an hour ago
    and one that appeared since (tests/test_history_store.py's synthetic history), so the range views have rows."""
    import streamlit as st

    from queries.connection import make_engine
    from queries.history import schema
    from tests.history_support import new_store
    from tests.test_history_store import write_history

    url = new_store(pg_admin_url)
    engine = make_engine(url)
    with engine.connect() as conn:
        schema.migrate(conn)
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    write_history(engine, "default", now - timedelta(minutes=70), minutes=69)
    engine.dispose()
    monkeypatch.setenv("PGPULSE_HISTORY_URL", url)
    st.cache_data.clear()
    st.cache_resource.clear()
    return url


@ON_PG18
def test_the_range_views_columns_read_in_words_too(with_history):
    """Frames that only appear with history: Queries over the range, and the Overview's "What changed"."""
    for page in ("views/overview.py", "views/queries.py"):
        app = run_page(page)
        assert not app.exception, (page, app.exception)
        for name, config in shown_columns(app):
            assert name in COLUMNS and config.get("label") == COLUMNS[name].label, (page, name, config)
    changed = next(element for element in run_page("views/overview.py").dataframe
                   if "mean_time_ratio" in element.value.columns)
    shown = {row["change"]: row for row in changed.value.to_dict("records")}
    assert set(shown) == {"slower", "new"}
    shown_values = changed.proto.arrow_data.styler.display_values  # the formatted figures, as Arrow
    # "Slower by 3.0×" (2.x when the range's edge cuts a minute), beside "Mean time before 1.00 ms"
    assert re.search(r"[23]\.\d×".encode(), shown_values) and b"1.00 ms" in shown_values


def test_factors_and_costs_read_as_such():
    assert FORMATTERS["times"](2.5) == "2.5×" and FORMATTERS["times"](None) == "–"
    assert FORMATTERS["cost"](1234.56) == "1,235"
    assert describe("mean_time_ratio").label == "Slower by" and describe("previous_mean_exec_time_ms").kind == "ms"
