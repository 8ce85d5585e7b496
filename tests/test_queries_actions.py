"""queries.actions against real servers: nothing happens unless enabled, and then exactly one backend is hit."""
from __future__ import annotations

import psycopg
import pytest

from queries.actions import ActionDisabledError, cancel_backend, terminate_backend
from queries.activity import activity, long_running_queries
from queries.errors import PgPulseError
from tests.test_queries_activity import Session, wait_for

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


@pytest.fixture
def sleeper(fresh_db):
    """A session running SELECT pg_sleep(3) in a thread, seen running before the test starts."""
    session = Session(fresh_db)
    try:
        session.start("SELECT pg_sleep(3)")
        yield session
    finally:
        session.close()


def running_pids(engine):
    return set(long_running_queries(engine, min_seconds=0)["pid"])


def test_cancel_is_refused_when_disabled_and_cancels_when_enabled(engine, sleeper):
    wait_for(lambda: running_pids(engine), lambda pids: sleeper.pid in pids)
    with pytest.raises(ActionDisabledError, match="cancelling a query is disabled") as refused:
        cancel_backend(engine, sleeper.pid, enabled=False)
    assert isinstance(refused.value, PgPulseError) and refused.value.kind == "action_disabled"
    assert sleeper.thread.is_alive() and sleeper.pid in running_pids(engine)

    assert cancel_backend(engine, sleeper.pid, enabled=True) is True  # runs in the read-only transaction
    sleeper.join()
    assert isinstance(sleeper.error, psycopg.errors.QueryCanceled)
    assert sleeper.pid in set(activity(engine)["pid"])  # cancelled, not disconnected


def test_terminate_ends_the_session_only_when_enabled(engine, fresh_db):
    session = Session(fresh_db)
    try:
        with pytest.raises(ActionDisabledError, match="terminating a session is disabled"):
            terminate_backend(engine, session.pid, enabled=False)
        assert session.conn.execute("SELECT 1").fetchone() == (1,)
        assert terminate_backend(engine, session.pid, enabled=True) is True
        wait_for(lambda: set(activity(engine)["pid"]), lambda pids: session.pid not in pids)
        with pytest.raises(psycopg.OperationalError):
            session.conn.execute("SELECT 1")
    finally:
        session.close()


@pytest.mark.parametrize("pid", [0, -1, True, 1.5])
def test_nonsense_pids_are_refused_before_reaching_the_server(pid):
    with pytest.raises(ValueError, match="positive backend process id"):
        cancel_backend(None, pid, enabled=True)
    with pytest.raises(ValueError, match="positive backend process id"):
        terminate_backend(None, pid, enabled=True)


def test_a_pid_that_is_no_backend_is_reported_as_not_signalled(engine):
    missing = 2**22 + 7  # above Linux's default pid_max
    assert cancel_backend(engine, missing, enabled=True) is False
    assert terminate_backend(engine, missing, enabled=True) is False
