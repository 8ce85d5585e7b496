"""queries.settings against real servers: units, defaults, sources, version and privilege differences."""
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.connection import make_engine
from queries.settings import PERFORMANCE_SETTINGS, performance_settings

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


def setting(frame, name):
    rows = frame[frame["name"] == name]
    assert len(rows) == 1, f"{name}: {len(rows)} rows"
    return rows.iloc[0]


def test_shared_buffers_with_unit_display_and_default(fresh_db, pg_version):
    frame = performance_settings(make_engine(fresh_db))
    row = setting(frame, "shared_buffers")
    # the test servers set 128MB in their configuration file, the compiled-in default from 15 on (8MB before)
    assert (row["setting"], row["unit"], row["value_display"]) == ("16384", "8kB", "128MB")
    compiled = "16384" if pg_version >= 150000 else "1024"
    assert (row["source"], row["boot_val"], row["is_default"]) == ("configuration file", compiled, compiled == "16384")
    assert row["category"].startswith("Resource Usage") and not row["pending_restart"]
    changed = setting(frame, "max_connections")  # 120 in the configuration file, compiled default 100
    assert (changed["setting"], changed["boot_val"], changed["is_default"]) == ("120", "100", False)
    assert setting(frame, "track_io_timing")["value_display"] == "on"


def test_rows_follow_the_declared_order_and_io_method_only_on_18(fresh_db, pg_version):
    frame = performance_settings(make_engine(fresh_db))
    expected = [name for name in PERFORMANCE_SETTINGS if name != "io_method" or pg_version >= 180000]
    assert list(frame["name"]) == expected
    if pg_version >= 180000:
        assert setting(frame, "io_method")["boot_val"] == "worker"


def test_alter_database_set_is_reported_with_its_source(fresh_db):
    database = make_url(fresh_db).database
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{database}" SET work_mem = \'16MB\'')
    row = setting(performance_settings(make_engine(fresh_db)), "work_mem")  # a new connection reads it
    assert (row["setting"], row["unit"], row["value_display"]) == ("16384", "kB", "16MB")
    assert (row["source"], row["boot_val"], row["reset_val"], row["is_default"]) == ("database", "4096", "16384", False)
    untouched = setting(performance_settings(make_engine(fresh_db)), "maintenance_work_mem")
    assert untouched["source"] == "default" and untouched["is_default"]


def test_server_derived_default_counts_as_default(fresh_db):
    row = setting(performance_settings(make_engine(fresh_db)), "wal_buffers")
    assert row["boot_val"] == "-1" and row["setting"] != "-1"  # -1: sized from shared_buffers at start
    assert row["source"] in ("default", "override")  # 'override' before 15: set by the server itself
    assert row["is_default"]


def test_superuser_only_settings_are_absent_for_other_roles(fresh_db):
    role = f"plain_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    names = set(performance_settings(make_engine(make_url(fresh_db).set(username=role)))["name"])
    assert "shared_preload_libraries" not in names
    assert {"work_mem", "shared_buffers", "autovacuum"} <= names
    assert "shared_preload_libraries" in set(performance_settings(make_engine(fresh_db))["name"])


def test_pgpulse_local_overrides_do_not_show_as_server_settings(fresh_db):
    """statement_timeout and jit are SET LOCAL by pgpulse's own read path; the page must show the
    server's values (reset_val), not the dashboard's session."""
    frame = performance_settings(make_engine(fresh_db)).set_index("name")
    assert frame.loc["statement_timeout", "setting"] == "0"
    assert frame.loc["statement_timeout", "value_display"] == "0ms"
    assert bool(frame.loc["statement_timeout", "is_default"])
    assert frame.loc["jit", "setting"] == frame.loc["jit", "boot_val"]
    assert frame.loc["jit", "source"].startswith("server (RESET value")
