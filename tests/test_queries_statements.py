"""queries.statements against real servers: known statements come back with their exact figures."""
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.connection import make_engine
from queries.errors import ExtensionMissingError
from queries.statements import hidden_statement_count, statements, statements_status
from tests.conftest import create_database

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

PROBE_QUERY = "SELECT count(*) FROM pgpulse_probe WHERE id < $1"


@pytest.fixture
def probed_db(fresh_db):
    """A database where a known statement ran 7 times and a slow one twice."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE pgpulse_probe AS SELECT g AS id FROM generate_series(1, 1000) g")
        for limit in range(1, 8):
            conn.execute("SELECT count(*) FROM pgpulse_probe WHERE id < %s", (limit * 100,))
        for _ in range(2):
            conn.execute("SELECT pg_sleep(0.2)")
    return fresh_db


def test_known_statement_has_exact_calls_and_rows(probed_db):
    frame = statements(make_engine(probed_db), text="pgpulse_probe WHERE", min_calls=1)
    assert list(frame["query"]) == [PROBE_QUERY]
    row = frame.iloc[0]
    assert row["calls"] == 7
    assert row["rows"] == 7
    assert row["rows_per_call"] == 1.0
    assert row["user_name"] == "postgres"
    assert row["database_name"] == make_url_database(probed_db)
    assert row["shared_blks_hit"] + row["shared_blks_read"] > 0
    assert 0 <= row["hit_ratio"] <= 1


def make_url_database(url):
    return make_url(url).database


def test_sorting_by_mean_time_puts_the_slow_statement_first(probed_db):
    frame = statements(make_engine(probed_db), sort_by="mean_exec_time_ms", limit=3)
    top = frame.iloc[0]
    assert top["query"] == "SELECT pg_sleep($1)"
    assert top["calls"] == 2
    assert top["mean_exec_time_ms"] >= 200
    assert top["max_exec_time_ms"] >= top["mean_exec_time_ms"]
    assert 0 < top["percent_of_total_time"] <= 100
    assert frame["mean_exec_time_ms"].is_monotonic_decreasing


def test_filters_by_min_calls_and_user(probed_db):
    engine = make_engine(probed_db)
    frequent = statements(engine, min_calls=7, sort_by="calls")
    assert PROBE_QUERY in set(frequent["query"])
    assert "SELECT pg_sleep($1)" not in set(frequent["query"])
    assert statements(engine, user="nobody_has_this_name").empty


def test_percent_of_total_sums_to_100_for_top_level(probed_db):
    engine = make_engine(probed_db)
    every = statements(engine, limit=1000, include_own=True)
    assert every.loc[every["toplevel"], "percent_of_total_time"].sum() == pytest.approx(100, abs=0.01)
    # pgpulse's own statements are hidden by default but still part of the database's total time
    shown = statements(engine, limit=1000)
    assert 0 < shown["percent_of_total_time"].sum() < 100


def test_io_time_column_is_unified_across_versions(probed_db):
    frame = statements(make_engine(probed_db), sort_by="io_time_ms")
    for column in ("blk_read_time_ms", "blk_write_time_ms", "io_time_ms", "wal_bytes", "temp_blks_written"):
        assert column in frame.columns


def test_unknown_sort_column_is_refused(probed_db):
    with pytest.raises(ValueError, match="sort_by must be one of"):
        statements(make_engine(probed_db), sort_by="queryid; DROP TABLE x")


def test_status_when_everything_is_in_place(probed_db):
    status = statements_status(make_engine(probed_db))
    assert status.ready and status.fix is None
    assert status.preloaded is True and status.can_read_all_stats
    assert status.statement_count > 0


def test_extension_not_installed_names_create_extension(pg_admin_url):
    url = create_database(pg_admin_url, f"noext_{uuid.uuid4().hex[:8]}", extension=False)
    with pytest.raises(ExtensionMissingError, match="CREATE EXTENSION pg_stat_statements"):
        statements(make_engine(url))


def test_library_not_preloaded_names_shared_preload_libraries(pg_no_preload):
    url = create_database(pg_no_preload.url(), "nopreload")
    engine = make_engine(url)
    with pytest.raises(ExtensionMissingError, match="shared_preload_libraries"):
        statements(engine)
    status = statements_status(engine)
    assert status.preloaded is False and not status.ready


def test_role_without_read_all_stats_is_told_which_grant(probed_db):
    role = f"limited_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(probed_db, autocommit=True) as conn:
        conn.execute(f"CREATE ROLE {role} LOGIN")
    limited = make_engine(make_url(probed_db).set(username=role))
    frame = statements(limited, text="pgpulse_probe WHERE")
    assert list(frame["query"]) == []  # its text is hidden, so the text filter cannot match
    everything = statements(limited, limit=1000)
    assert hidden_statement_count(everything) >= 2
    status = statements_status(limited)
    assert not status.can_read_all_stats
    assert f"GRANT pg_read_all_stats TO {role}" in status.privilege_note
    with psycopg.connect(probed_db, autocommit=True) as conn:
        conn.execute(f"GRANT pg_read_all_stats TO {role}")
    limited.dispose()
    assert list(statements(limited, text="pgpulse_probe WHERE")["query"]) == [PROBE_QUERY]


def test_nested_statements_only_on_request(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE FUNCTION nested_probe() RETURNS bigint LANGUAGE sql AS "
                     "$$ SELECT count(*) FROM pg_class WHERE relname = 'nested_marker' $$")
        for _ in range(3):
            conn.execute("SELECT nested_probe()")
    engine = make_engine(fresh_db)
    nested_text = "FROM pg_class WHERE relname = $1"  # the function's statement, constants normalised
    assert statements(engine, text=nested_text).empty
    nested = statements(engine, text=nested_text, include_nested=True)
    assert list(nested["toplevel"]) == [False] and list(nested["calls"]) == [3]
    assert list(statements(engine, text="SELECT nested_probe()")["calls"]) == [3]


def test_pgpulse_own_statements_are_marked_and_hidden_by_default(probed_db):
    from queries.overview import server_summary

    engine = make_engine(probed_db)
    server_summary(engine)
    own = statements(engine, include_own=True, limit=1000)
    marked = own[own["query"].str.contains("/* pgpulse */", regex=False)]
    assert any("pg_postmaster_start_time()" in query for query in marked["query"])
    hidden = statements(engine, limit=1000)
    assert not hidden["query"].str.contains("/* pgpulse */", regex=False).any()
    assert PROBE_QUERY in set(hidden["query"])


def test_the_transaction_set_up_of_every_query_is_marked_as_own(probed_db):
    """READ ONLY and the local timeouts are pgpulse's too: they must not top the Queries page by calls."""
    engine = make_engine(probed_db)
    for _ in range(3):
        statements_status(engine)
    setup = "set_config($1, $2, $3), set_config($4, $5, $6), set_config($7, $8, $9), set_config($10, $11, $12)"
    own = statements(engine, include_own=True, text=setup)
    assert list(own["query"]) == [f"SELECT /* pgpulse */ {setup}"] and int(own["calls"].iloc[0]) >= 3
    assert statements(engine, text=setup).empty
