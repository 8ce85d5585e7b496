"""Replication and WAL on a server without any: the checks pass saying so, the page says so in one line, and the
WAL rate is read from two samples (PostgreSQL 18 and 15)."""
import psycopg
import pytest

from queries import replication
from queries.health import CheckInputs, replication_lag, stale_replication_slots
from tests.test_replication import page_env, replication_page  # noqa: F401 - page_env is a fixture


def test_a_server_without_replication_passes_saying_so(engine):
    inputs = CheckInputs(engine)
    assert stale_replication_slots(inputs).detail == "no replication configured: no replication slots"
    assert replication_lag(inputs).detail == "no replication configured: no standby streams from this server"
    assert stale_replication_slots(inputs).status == replication_lag(inputs).status == "pass"
    summary = replication.replication_summary(engine)
    assert not summary.replication_configured and summary.standbys == summary.slots == 0
    assert replication.standbys(engine).empty and replication.replication_slots(engine).empty


def test_wal_rate_between_two_samples(engine, fresh_db):
    first = replication.replication_summary(engine)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE rate_probe AS SELECT g FROM generate_series(1, 20000) g")
    second = replication.replication_summary(engine)
    rate = replication.wal_bytes_per_second_between(first, second)
    assert rate == (second.wal_position_bytes - first.wal_position_bytes) / (second.sampled_at_epoch - first.sampled_at_epoch)
    assert rate > 0 and replication.wal_bytes_per_second_between(None, second) is None



@pytest.mark.usefixtures("page_env")
def test_the_page_without_replication_says_so_in_one_line(engine, fresh_db, monkeypatch):
    from tests.test_app import texts

    monkeypatch.setenv("DATABASE_URL", fresh_db)  # the same monkeypatch page_env set up
    app = replication_page()
    assert not app.error
    assert [info.value for info in app.info][0].startswith("No replication configured: no standby streams")
    assert "WAL archiving is off" in texts(app)
