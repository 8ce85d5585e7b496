"""The Fleet page as the user meets it (AppTest): two targets from PGPULSE_TARGETS with tags, one of them down, the
rows worst first from a store the real collector filled; the tag filter; without a store one line."""
from __future__ import annotations

import json
from pathlib import Path

import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from dashboard.config import ConfigError, load_settings
from demo.postgres import DEMO_SETTINGS
from tests.history_support import collect_once, new_store

ROOT = Path(__file__).resolve().parents[1]
DEAD_URL = "postgresql://monitor:s3cret@127.0.0.1:1/app"


@pytest.fixture
def fleet_env(pg_admin_url, fresh_db, monkeypatch, tmp_path):
    """Targets "shop" (up, tags prod and eu) and "legacy" (nothing listens: group old), collected once."""
    store = new_store(pg_admin_url)
    assert not collect_once(store, ("shop", fresh_db), ("legacy", DEAD_URL))  # legacy fails: False
    monkeypatch.setenv("PGPULSE_TARGETS", json.dumps({
        "shop": {"database_url": fresh_db, "tags": ["prod", "eu"]},
        "legacy": {"database_url": DEAD_URL, "group": "old"}}))
    monkeypatch.setenv("PGPULSE_HISTORY_URL", store)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.delenv("DATABASE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    yield store
    st.cache_data.clear()
    st.cache_resource.clear()


def fleet_frame(app: AppTest):
    (table,) = app.dataframe
    return table.value.data if hasattr(table.value, "data") else table.value


def test_fleet_is_the_first_page_with_its_rows_worst_first(fleet_env):
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert app.title[0].value == "Fleet"  # several targets: the Fleet page opens first
    frame = fleet_frame(app)
    assert frame["target"].tolist() == ["legacy", "shop"]  # the unreachable one first
    legacy, shop = frame.iloc[0], frame.iloc[1]
    assert legacy["fleet_status"].startswith("Unreachable for ")
    assert "database unreachable" in legacy["fleet_status"] and "s3cret" not in legacy["fleet_status"]
    assert shop["fleet_status"] == "Reachable"
    assert shop["connections_of_max"].endswith(f" / {DEMO_SETTINGS['max_connections']}")
    assert shop["server_version"][:2] in {"14", "15", "16", "17", "18"}
    assert [caption.value for caption in app.caption if caption.value.startswith("2 targets")] == [
        "2 targets: 1 unreachable. Worst first; every figure says how old it is (ages at the right)."]


def test_the_tag_filter_keeps_the_tagged_targets(fleet_env):
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert app.multiselect[0].options == ["eu", "old", "prod"]
    app.multiselect[0].select("prod").run()
    assert fleet_frame(app)["target"].tolist() == ["shop"]


def test_without_a_store_the_page_says_how_to_start_the_collector(fleet_env, monkeypatch):
    monkeypatch.delenv("PGPULSE_HISTORY_URL")
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert not app.exception
    assert [info.value for info in app.info] == [
        "The Fleet page reads what the collector stores: `make run` starts it, or run `python -m dashboard collect` "
        "with `history_url` set (see README *History*)."]


def test_tags_and_group_come_from_the_configuration():
    settings = load_settings({"PGPULSE_TARGETS": json.dumps({
        "a": {"database_url": "postgresql://h/a", "tags": ["prod", "eu"], "group": "web"},
        "b": "postgresql://h/b"})}, secrets_path=Path("/nonexistent.toml"))
    assert [(target.name, target.tags) for target in settings.targets] == [("a", ("prod", "eu", "web")), ("b", ())]
    with pytest.raises(ConfigError, match="tags of target a must be a list of words"):
        load_settings({"PGPULSE_TARGETS": json.dumps({"a": {"database_url": "postgresql://h/a", "tags": "prod"}})},
                      secrets_path=Path("/nonexistent.toml"))


def test_one_target_keeps_the_overview_first(app_env):
    app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
    assert app.title[0].value == "Overview"


def test_the_trend_reads_as_text_without_exponents():
    from dashboard.formatting import sparkline

    assert sparkline([1.0, None, 117.9], "/s") == "▁ █ 118/s"  # a blank where nothing was collected
    assert sparkline([0.5, 0.0123], "/s") == "█▁ 0.012/s"
    assert sparkline([12345.6], "/s") == "█ 12,346/s"


def test_the_summary_counts_one_target_in_the_singular():
    import pandas as pd

    from dashboard.fleet_rows import fleet_summary

    one = pd.DataFrame({"reachable": [True], "failing_checks": [2]})
    assert fleet_summary(one) == ("1 target: all reachable, 1 with failing checks. Worst first; every figure says how "
                                  "old it is (ages at the right).")
