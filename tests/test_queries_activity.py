"""queries.activity against real servers: real locks, waits, idle transactions and slow queries."""
from __future__ import annotations

import threading
import time
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.activity import (
    activity,
    blocking_tree,
    connection_usage,
    connections,
    idle_in_transaction,
    long_running_queries,
    maintenance_progress,
    wait_events,
)

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


class Session:
    """A connection of its own whose statements can run in a background thread."""

    def __init__(self, url: str, application_name: str = "pgpulse-test"):
        self.conn = psycopg.connect(url, autocommit=True, application_name=application_name)
        self.pid = self.conn.info.backend_pid
        self.thread: threading.Thread | None = None
        self.error: Exception | None = None

    def run(self, sql: str) -> None:
        self.conn.execute(sql)

    def start(self, sql: str) -> None:
        """Send sql from a thread, so the test can watch it wait."""
        def target():
            try:
                self.conn.execute(sql)
            except Exception as exc:  # noqa: BLE001 - kept for the test to inspect
                self.error = exc
        self.thread = threading.Thread(target=target, daemon=True)
        self.thread.start()

    def join(self, timeout: float = 5) -> None:
        self.thread.join(timeout)
        assert not self.thread.is_alive(), f"statement of pid {self.pid} still running"

    def close(self) -> None:
        if self.thread is not None and self.thread.is_alive():
            self.conn.cancel_safe()
            self.thread.join(5)
        self.conn.close()


@pytest.fixture
def sessions(fresh_db):
    """Factory of background sessions on fresh_db; every one is closed at teardown, pass or fail."""
    opened: list[Session] = []

    def open_session(application_name: str = "pgpulse-test") -> Session:
        opened.append(Session(fresh_db, application_name))
        return opened[-1]

    try:
        yield open_session
    finally:
        for session in reversed(opened):
            session.close()


@pytest.fixture
def table_t(fresh_db):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL)")
        conn.execute("INSERT INTO t SELECT g, 0 FROM generate_series(1, 3) g")


def wait_for(produce, done, timeout: float = 5.0):
    """Call produce() until done(result) holds; return that result or fail at the deadline."""
    deadline = time.monotonic() + timeout
    while True:
        result = produce()
        if done(result):
            return result
        if time.monotonic() > deadline:
            raise AssertionError(f"condition not reached within {timeout}s; last result:\n{result}")
        time.sleep(0.05)


def rows(frame, columns):
    return [tuple(None if value != value else value for value in row) for row in frame[columns].itertuples(index=False)]


def test_blocked_update_shows_its_blocker_as_the_root(engine, sessions, table_t):
    blocker, blocked = sessions(), sessions()
    blocker.run("BEGIN")
    blocker.run("UPDATE t SET v = v + 1 WHERE id = 1")
    blocked.start("UPDATE t SET v = v + 10 WHERE id = 1")

    tree = wait_for(lambda: blocking_tree(engine), lambda frame: len(frame) == 2)
    assert rows(tree, ["pid", "blocking_pid", "root_pid", "depth", "path"]) == [
        (blocker.pid, None, blocker.pid, 0, f"{blocker.pid}"),
        (blocked.pid, blocker.pid, blocker.pid, 1, f"{blocker.pid} > {blocked.pid}"),
    ]
    root, waiter = tree.iloc[0], tree.iloc[1]
    assert (waiter["lock_mode"], waiter["locktype"], waiter["relation"]) == ("ShareLock", "transactionid", None)
    assert (root["lock_mode"], root["locktype"], root["relation"]) == ("ExclusiveLock", "transactionid", None)
    assert (root["state"], waiter["state"]) == ("idle in transaction", "active")
    assert waiter["query"] == "UPDATE t SET v = v + 10 WHERE id = 1"
    assert root["user_name"] == waiter["user_name"] == "postgres"
    assert waiter["wait_seconds"] >= 0 and root["wait_seconds"] >= waiter["wait_seconds"]

    waits = wait_events(engine)
    lock_waits = waits[waits["wait_event_type"] == "Lock"]
    assert rows(lock_waits, ["wait_event", "backend_count"]) == [("transactionid", 1)]

    sessions_now = activity(engine).set_index("pid")
    assert sessions_now.loc[blocked.pid, "blocked_by"] == [blocker.pid]
    assert sessions_now.loc[blocker.pid, "blocked_by"] == []
    assert sessions_now.loc[blocked.pid, "wait_event"] == "transactionid"

    blocker.run("ROLLBACK")
    blocked.join()
    assert blocked.error is None
    assert blocking_tree(engine).empty


def test_three_level_chain_reads_top_down(engine, sessions, table_t):
    first, second, third = sessions(), sessions(), sessions()
    first.run("BEGIN")
    first.run("UPDATE t SET v = 1 WHERE id = 2")
    second.start("UPDATE t SET v = 2 WHERE id = 2")
    wait_for(lambda: blocking_tree(engine), lambda frame: len(frame) == 2)
    third.start("UPDATE t SET v = 3 WHERE id = 2")

    tree = wait_for(lambda: blocking_tree(engine), lambda frame: len(frame) == 3)
    # the second holds the row's tuple lock while it waits for the first's transaction
    assert rows(tree, ["pid", "blocking_pid", "depth", "path", "lock_mode", "locktype", "relation"]) == [
        (first.pid, None, 0, f"{first.pid}", "ExclusiveLock", "transactionid", None),
        (second.pid, first.pid, 1, f"{first.pid} > {second.pid}", "ShareLock", "transactionid", None),
        (third.pid, second.pid, 2, f"{first.pid} > {second.pid} > {third.pid}", "ExclusiveLock", "tuple", "public.t"),
    ]
    assert set(tree["root_pid"]) == {first.pid}
    waits = wait_events(engine)
    assert rows(waits[waits["wait_event_type"] == "Lock"].sort_values("wait_event"), ["wait_event", "backend_count"]) == [
        ("transactionid", 1), ("tuple", 1)]
    first.run("ROLLBACK")
    second.join()
    third.join()


def test_relation_lock_root_shows_its_strongest_lock_on_the_relation(engine, sessions, table_t):
    holder, waiter = sessions(), sessions()
    holder.run("BEGIN")
    holder.run("LOCK TABLE t IN SHARE MODE")
    holder.run("LOCK TABLE t IN ACCESS EXCLUSIVE MODE")
    waiter.start("SELECT count(*) FROM t")
    tree = wait_for(lambda: blocking_tree(engine), lambda frame: len(frame) == 2)
    assert rows(tree, ["pid", "depth", "lock_mode", "locktype", "relation"]) == [
        (holder.pid, 0, "AccessExclusiveLock", "relation", "public.t"),
        (waiter.pid, 1, "AccessShareLock", "relation", "public.t"),
    ]
    holder.run("ROLLBACK")
    waiter.join()


def test_idle_in_transaction_lists_the_session_with_its_idle_time(engine, sessions):
    idle, aborted, plain = sessions(), sessions(), sessions()
    idle.run("BEGIN")
    idle.run("SELECT 1")
    aborted.run("BEGIN")
    with pytest.raises(psycopg.errors.DivisionByZero):
        aborted.run("SELECT 1 / 0")
    plain.run("SELECT 1")

    frame = wait_for(lambda: idle_in_transaction(engine, min_seconds=1), lambda frame: len(frame) == 2)
    assert rows(frame, ["pid", "state", "last_query"]) == [
        (idle.pid, "idle in transaction", "SELECT 1"),
        (aborted.pid, "idle in transaction (aborted)", "SELECT 1 / 0"),
    ]
    assert (frame["idle_seconds"] >= 1).all()
    assert frame.iloc[0]["xact_seconds"] >= frame.iloc[0]["idle_seconds"]
    assert frame.iloc[1]["xact_seconds"] != frame.iloc[1]["xact_seconds"]  # NaN: PostgreSQL clears xact_start on abort
    assert idle_in_transaction(engine, min_seconds=60).empty

    everyone = activity(engine).set_index("pid")
    assert everyone.loc[idle.pid, "idle_seconds"] >= 1
    assert everyone.loc[plain.pid, "state"] == "idle"
    assert everyone.loc[plain.pid, "xact_seconds"] != everyone.loc[plain.pid, "xact_seconds"]  # NaN: no transaction


def test_long_running_query_is_listed_and_the_caller_is_not(engine, sessions):
    sleeper = sessions()
    sleeper.start("SELECT pg_sleep(3)")
    frame = wait_for(lambda: long_running_queries(engine, min_seconds=1), lambda frame: len(frame) == 1)
    row = frame.iloc[0]
    assert (row["pid"], row["query"], row["wait_event"]) == (sleeper.pid, "SELECT pg_sleep(3)", "PgSleep")
    assert row["query_seconds"] >= 1

    everything = long_running_queries(engine, min_seconds=0)
    assert sleeper.pid in set(everything["pid"])
    # the caller's own session is active while it reads (activity() lists it), and long_running_queries leaves it out
    assert "active" in set(activity(engine).query("application_name == 'pgpulse'")["state"])
    assert "pgpulse" not in set(everything["application_name"])
    assert everything["query_seconds"].is_monotonic_decreasing
    sleeper.close()


def test_connections_count_sessions_by_application(engine, sessions, fresh_db):
    name = f"pgpulse-test-{uuid.uuid4().hex[:8]}"
    sessions(name), sessions(name)
    busy = sessions(name)
    busy.run("BEGIN")
    frame = connections(engine)
    mine = frame[frame["application_name"] == name]
    assert rows(mine, ["state", "database_name", "user_name", "client_addr", "connection_count"]) == [
        ("idle", make_url(fresh_db).database, "postgres", "127.0.0.1", 2),
        ("idle in transaction", make_url(fresh_db).database, "postgres", "127.0.0.1", 1),
    ]
    assert "pgpulse" in set(frame["application_name"])  # the dashboard's own session counts too


def test_connection_usage_counts_client_backends_against_the_settings(engine, sessions, fresh_db, pg_version):
    before = connection_usage(engine)
    for _ in range(3):
        sessions()
    after = connection_usage(engine)
    with psycopg.connect(fresh_db) as conn:
        setting = {name: int(value) for name, value in conn.execute(
            "SELECT name, setting FROM pg_settings WHERE name IN "
            "('max_connections', 'superuser_reserved_connections', 'reserved_connections')")}
    assert after.total_connections == before.total_connections + 3
    assert after.max_connections == setting["max_connections"]
    assert after.superuser_reserved_connections == setting["superuser_reserved_connections"]
    assert after.reserved_connections == setting.get("reserved_connections", 0)
    assert ("reserved_connections" in setting) == (pg_version >= 160000)
    assert after.available_connections == (after.max_connections - after.superuser_reserved_connections
                                           - after.reserved_connections - after.total_connections)
    assert after.usage_ratio == pytest.approx(after.total_connections / after.max_connections)


def test_activity_lists_other_backend_types_only_when_asked(engine):
    clients = activity(engine)
    assert set(clients["backend_type"]) == {"client backend"}
    assert "checkpointer" in set(activity(engine, all_backends=True)["backend_type"])
    assert len(activity(engine, limit=1)) == 1


def server_order(url: str, frame) -> list[int]:
    """The frame's pids in the order PostgreSQL sorts them by the session list's ORDER BY: NULL states of
    background processes, a wait on 'Activity' and NULL timestamps with SQL's own three-valued logic."""
    def column(name):
        return [None if value is None or value != value else value for value in frame[name].tolist()]
    with psycopg.connect(url) as conn:
        return [pid for (pid,) in conn.execute(
            "SELECT a.pid FROM unnest(%s::int[], %s::text[], %s::text[], %s::timestamptz[], %s::timestamptz[], "
            "%s::timestamptz[]) AS a(pid, state, wait_event_type, xact_start, query_start, backend_start) "
            "ORDER BY coalesce(a.state = 'idle' OR a.wait_event_type = 'Activity', false), "
            "coalesce(a.xact_start, a.query_start, a.backend_start), a.pid",
            [column(name) for name in ("pid", "state", "wait_event_type", "xact_start", "query_start",
                                       "backend_start")])]


def test_every_backend_lists_busy_ones_first_and_background_processes_in_their_main_loop_as_idle(
        engine, sessions, fresh_db):
    idle, sleeper = sessions(), sessions()
    idle.run("SELECT 1")
    sleeper.start("SELECT pg_sleep(30)")
    # the checkpointer waits on 'Activity' between checkpoints: idle, though its state is NULL
    frame = wait_for(lambda: activity(engine, all_backends=True),
                     lambda frame: {sleeper.pid, idle.pid} <= set(frame["pid"]) and frame.query(
                         "backend_type == 'checkpointer' and wait_event_type == 'Activity'").shape[0] == 1
                     and frame.query(f"pid == {sleeper.pid}")["state"].tolist() == ["active"])
    checkpointer = int(frame.query("backend_type == 'checkpointer'")["pid"].iloc[0])
    assert rows(frame[frame["pid"] == checkpointer], ["state"]) == [(None,)]
    order = frame["pid"].tolist()
    # the sleeper started after the checkpointer but is busy; the idle client's query came after the server started
    assert order.index(sleeper.pid) < order.index(checkpointer) < order.index(idle.pid)
    assert len(set(frame["backend_type"])) > 1
    assert order == server_order(fresh_db, frame)
    assert activity(engine, all_backends=True, limit=2)["pid"].tolist() == order[:2]

    clients = activity(engine)
    assert clients["pid"].tolist() == server_order(fresh_db, clients)
    sleeper.close()


def test_a_background_process_at_work_is_busy(engine, fresh_db):
    """A checkpointer writing a spread checkpoint has a NULL state and waits on 'Timeout' (CheckpointWriteDelay):
    it is busy, listed before the idle, as PostgreSQL's ORDER BY lists it. A test server cannot be made to
    checkpoint slowly on demand, so the real backends are read and the checkpointer given that wait (and none)."""
    from queries.activity import _activity, _session_read

    settings, backends = _session_read(engine)
    checkpointer = next(backend for backend in backends if backend["backend_type"] == "checkpointer")
    for wait_event_type, wait_event in (("Timeout", "CheckpointWriteDelay"), (None, None), ("Activity", "CheckpointerMain")):
        checkpointer.update(wait_event_type=wait_event_type, wait_event=wait_event)
        order = _activity(backends, 500)["pid"].tolist()
        assert order == server_order(fresh_db, _activity(backends, 500))
        # the reading session is busy and started last: before it when busy (the checkpointer started with the
        # server), after it when idle
        busy = order.index(checkpointer["pid"]) < order.index(settings["own_pid"])
        assert busy == (wait_event_type != "Activity")


def test_every_function_returns_its_documented_columns(engine):
    identity = ["pid", "user_name", "database_name", "application_name", "client_addr"]
    assert list(activity(engine).columns) == [*identity, "state", "wait_event_type", "wait_event", "backend_start",
                                              "xact_start", "query_start", "state_change", "query_seconds",
                                              "xact_seconds", "idle_seconds", "blocked_by", "query", "backend_type",
                                              "route", "controller", "action", "file", "comment_tags"]  # sqlcommenter
    assert list(activity(engine, all_backends=True).columns) == list(activity(engine).columns)
    assert list(long_running_queries(engine).columns) == [*identity, "wait_event_type", "wait_event", "query_start",
                                                          "query_seconds", "xact_seconds", "query"]
    assert list(idle_in_transaction(engine).columns) == [*identity, "state", "xact_start", "state_change",
                                                         "idle_seconds", "xact_seconds", "backend_xid", "last_query"]
    assert list(connections(engine).columns) == ["state", "database_name", "user_name", "application_name",
                                                 "client_addr", "connection_count"]
    assert list(wait_events(engine).columns) == ["wait_event_type", "wait_event", "backend_count"]
    assert list(maintenance_progress(engine).columns) == ["pid", "operation", "database_name", "relation", "phase",
                                                          "progress_ratio", "started_seconds", "backend_type", "query"]


@pytest.fixture
def maintenance_running(engine, sessions, fresh_db):
    """A VACUUM, an ANALYZE (both slowed to 100 ms a block) and a CREATE INDEX CONCURRENTLY (held up by an
    open writer) running, as seen by maintenance_progress: (vacuum, analyze, create_index sessions, frame)."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for table in ("vac", "ana", "idx"):
            conn.execute(f"CREATE TABLE {table} AS SELECT g AS id, repeat('x', 200) AS pad FROM generate_series(1, 5000) g")
    vacuum, analyze, writer, create_index = sessions(), sessions(), sessions(), sessions()
    for slow in (vacuum, analyze):  # cost-based delay makes each block take 100 ms, so the work is seen running
        slow.run("SET vacuum_cost_delay = 100")
        slow.run("SET vacuum_cost_limit = 1")
    vacuum.start("VACUUM vac")
    analyze.start("ANALYZE ana")
    writer.run("BEGIN")
    writer.run("INSERT INTO idx VALUES (0, '')")  # CREATE INDEX CONCURRENTLY waits for this writer
    create_index.start("CREATE INDEX CONCURRENTLY idx_id ON idx (id)")
    frame = wait_for(lambda: maintenance_progress(engine), lambda frame: len(frame) == 3)
    return vacuum, analyze, create_index, frame


def test_maintenance_progress_shows_vacuum_analyze_and_create_index(maintenance_running, fresh_db):
    vacuum, analyze, create_index, frame = maintenance_running
    by_pid = frame.set_index("pid")
    expected = {vacuum.pid: ("vacuum", "public.vac", "VACUUM vac"), analyze.pid: ("analyze", "public.ana", "ANALYZE ana"),
                create_index.pid: ("create index", "public.idx", "CREATE INDEX CONCURRENTLY idx_id ON idx (id)")}
    assert {pid: tuple(by_pid.loc[pid, ["operation", "relation", "query"]]) for pid in by_pid.index} == expected
    assert by_pid.loc[create_index.pid, "phase"] == "waiting for writers before build"
    assert by_pid.loc[create_index.pid, "progress_ratio"] != by_pid.loc[create_index.pid, "progress_ratio"]  # NaN
    assert by_pid.loc[vacuum.pid, "phase"] == "scanning heap"
    assert 0 <= by_pid.loc[vacuum.pid, "progress_ratio"] < 1
    assert by_pid.loc[analyze.pid, "phase"] == "acquiring sample rows"
    assert 0 <= by_pid.loc[analyze.pid, "progress_ratio"] < 1
    assert (frame["database_name"] == make_url(fresh_db).database).all()
    assert (frame["started_seconds"] >= 0).all()
