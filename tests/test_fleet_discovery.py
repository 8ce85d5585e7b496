"""Discovery: a server entry with databases = "*" and include / exclude patterns; the collector follows a database
created after its start and one dropped; the dashboard's target list likewise."""
from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path

import psycopg
import pytest
import streamlit as st
from streamlit.testing.v1 import AppTest

from collector import Collector, ServerConfig
from dashboard.config import ConfigError, load_settings
from queries.discovery import chosen_databases, database_url
from tests.conftest import create_database, poll
from tests.history_support import FAST_PACES, new_store, rows

ROOT = Path(__file__).resolve().parents[1]
NO_SECRETS = Path("/nonexistent.toml")


def test_include_and_exclude_patterns_choose_the_databases():
    names = ["app_eu", "app_us", "app_test", "billing", "postgres"]
    assert chosen_databases(names) == sorted(names)
    assert chosen_databases(names, include=("app_*",), exclude=("*_test",)) == ["app_eu", "app_us"]
    assert chosen_databases(names, include=("billing", "app_e?")) == ["app_eu", "billing"]
    assert database_url("postgresql://me:pw@db:5433/postgres?sslmode=require", "app_eu") == \
        "postgresql+psycopg://me:pw@db:5433/app_eu?sslmode=require"


def test_a_server_entry_is_read_from_the_configuration():
    settings = load_settings({"PGPULSE_TARGETS": json.dumps({
        "main": {"database_url": "postgresql://h/postgres", "databases": "*", "include": ["app_*"],
                 "exclude": "*_test", "tags": ["prod"]},
        "solo": "postgresql://h/solo"})}, secrets_path=NO_SECRETS)
    assert [target.name for target in settings.targets] == ["solo"]
    (server,) = settings.servers
    assert (server.name, server.include, server.exclude, server.tags) == ("main", ("app_*",), ("*_test",), ("prod",))
    with pytest.raises(ConfigError, match='databases of server main must be "\\*"'):
        load_settings({"PGPULSE_TARGETS": json.dumps({"main": {"database_url": "postgresql://h/p", "databases": "app"}})},
                      secrets_path=NO_SECRETS)


def stored_reachable(store: str) -> set[str]:
    try:
        return {name for (name,) in rows(store, "SELECT t.name FROM pgpulse.fleet_state f JOIN pgpulse.target t "
                                                "USING (target_id) WHERE f.reachable")}
    except psycopg.Error:  # not migrated yet
        return set()


@pytest.fixture
def discoverable(pg_admin_url):
    names = ["disc_a", "disc_b", "disc_skip_test"]
    yield names
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        for name in names:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_the_collector_follows_databases_created_and_dropped(pg_admin_url, discoverable):
    create_database(pg_admin_url, "disc_a")
    create_database(pg_admin_url, "disc_skip_test")
    store = new_store(pg_admin_url)
    server = ServerConfig("srv", pg_admin_url, include=("disc_*",), exclude=("*_test",))
    collector = Collector([], store, paces=FAST_PACES, servers=[server])
    seen: dict[str, object] = {}

    def scenario() -> None:
        seen["first"] = poll(lambda: stored_reachable(store), lambda names: "srv/disc_a" in names, 30)
        create_database(pg_admin_url, "disc_b")
        seen["created"] = poll(lambda: stored_reachable(store), lambda names: "srv/disc_b" in names, 30)
        with psycopg.connect(pg_admin_url, autocommit=True) as conn:
            conn.execute('DROP DATABASE "disc_a" WITH (FORCE)')
        seen["targets_after_drop"] = poll(lambda: set(collector.targets), lambda names: "srv/disc_a" not in names, 30)
        # the collector lets go of a dropped database's target at its next loop, a moment after the list changed
        seen["held_after_drop"] = poll(lambda: set(collector.held), lambda held: "srv/disc_a" not in held, 30)

    async def main() -> None:
        stop = asyncio.Event()
        running = asyncio.create_task(collector.run(stop))
        try:
            await asyncio.to_thread(scenario)
        finally:
            stop.set()
            await running

    asyncio.run(main())
    assert seen["first"] == {"srv/disc_a"}  # the excluded one is not a target
    assert seen["created"] == {"srv/disc_a", "srv/disc_b"}
    assert seen["targets_after_drop"] == {"srv/disc_b"}
    assert seen["held_after_drop"] == {"srv/disc_b"}


def test_the_dashboards_target_list_follows_the_server(pg_admin_url, discoverable, monkeypatch, tmp_path):
    create_database(pg_admin_url, "disc_a", extension=False)
    monkeypatch.setenv("PGPULSE_TARGETS", json.dumps({"srv": {"database_url": pg_admin_url, "databases": "*",
                                                              "include": ["disc_*"], "exclude": ["*_test"]}}))
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    monkeypatch.setenv("PGPULSE_HISTORY_DATABASE_SECONDS", "1")
    monkeypatch.delenv("DATABASE_URL", raising=False)
    st.cache_data.clear()
    st.cache_resource.clear()
    try:
        app = AppTest.from_file(str(ROOT / "dashboard" / "app.py"), default_timeout=60).run()
        assert not app.exception
        assert app.title[0].value == "Overview"  # one database so far: its Overview
        create_database(pg_admin_url, "disc_b", extension=False)
        time.sleep(1.1)  # the next database interval lists the server again
        app.run()
        assert app.title[0].value == "Fleet"  # two targets now: the Fleet page comes first
        assert app.selectbox(key="target").options == ["srv/disc_a", "srv/disc_b"]
    finally:
        st.cache_data.clear()
        st.cache_resource.clear()
