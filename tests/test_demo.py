"""The demo blog database and its workload, on real PostgreSQL (18 and 15) and Redis servers."""
from __future__ import annotations

import re
import threading
import time
from datetime import UTC, datetime

import psycopg
import pytest
import redis
from sqlalchemy.engine import make_url

from demo.seed import create_demo_database
from demo.workload import APPLICATION_NAME, CACHE_PREFIX, PATTERNS, run_workload
from queries.connection import make_engine
from queries.history import load
from tests.history_support import collect_while, new_store

DATABASE = "pgpulse_demo_test"  # not the default name, so `make run`-style tests cannot collide
COUNTED_TABLES = ["users", "categories", "tags", "posts", "post_tags", "comments", "post_likes", "user_follows"]
WORKLOAD_SEED = 7  # with a cold cache, this seed's 30 rounds repeat some keys: hits and misses


def row_counts(url: str) -> dict[str, int]:
    with psycopg.connect(url) as conn:
        return {table: conn.execute(f"SELECT count(*) FROM {table}").fetchone()[0] for table in COUNTED_TABLES}


@pytest.fixture(scope="module")
def demo_url(pg_admin_url) -> str:
    return create_demo_database(pg_admin_url, database=DATABASE)


@pytest.fixture(scope="module")
def workload_run(demo_url, redis_url) -> dict:
    """One 30-round workload on a cold cache, with the Redis counters before and after."""
    client = redis.Redis.from_url(redis_url)
    for key in client.scan_iter(f"{CACHE_PREFIX}*"):
        client.delete(key)
    before = client.info("stats")
    started = time.monotonic()
    counts = run_workload(demo_url, redis_url, rounds=30, pause=(0, 0), seed=WORKLOAD_SEED)
    yield {"counts": counts, "before": before, "after": client.info("stats"),
           "started": started, "client": client}
    client.close()


def test_seed_creates_the_required_rows(demo_url):
    counts = row_counts(demo_url)
    assert counts["users"] >= 10_000
    assert counts["posts"] >= 50_000
    assert counts["comments"] >= 200_000
    assert counts["categories"] == 50
    assert counts["tags"] == 200
    assert 90_000 <= counts["post_likes"] <= 110_000
    assert 45_000 <= counts["user_follows"] <= 55_000
    with psycopg.connect(demo_url) as conn:
        replies, wrong_post = conn.execute(
            "SELECT count(*), count(*) FILTER (WHERE r.post_id <> p.post_id)"
            " FROM comments r JOIN comments p ON p.id = r.parent_id").fetchone()
        assert replies > 0 and wrong_post == 0  # a reply sits on its parent's post
        # Denormalised counters match the rows they count (before any workload runs).
        assert conn.execute("SELECT comment_count FROM posts WHERE id = 1").fetchone()[0] == \
            conn.execute("SELECT count(*) FROM comments WHERE post_id = 1").fetchone()[0]


def test_seed_is_idempotent(pg_admin_url, demo_url):
    before = row_counts(demo_url)
    started = time.monotonic()
    # The same database through a SQLAlchemy-style URL: the driver suffix is kept in the answer.
    psycopg_admin_url = make_url(pg_admin_url).set(drivername="postgresql+psycopg").render_as_string(False)
    again = create_demo_database(psycopg_admin_url, database=DATABASE)
    assert time.monotonic() - started < 5
    assert make_url(again).database == DATABASE
    assert make_url(again).drivername == "postgresql+psycopg"
    assert row_counts(demo_url) == before


def test_workload_runs_every_pattern(workload_run):
    counts = workload_run["counts"]
    assert "errors" not in counts
    assert {name: counts.get(name, 0) >= 1 for name in PATTERNS} == {name: True for name in PATTERNS}
    assert sum(counts.values()) == 30


def test_workload_fills_the_redis_cache(workload_run):
    client, before, after = workload_run["client"], workload_run["before"], workload_run["after"]
    keys = list(client.scan_iter(f"{CACHE_PREFIX}*"))
    assert any(key.startswith(f"{CACHE_PREFIX}popular_posts:".encode()) for key in keys)
    assert any(key.startswith(f"{CACHE_PREFIX}user_stats:".encode()) for key in keys)
    # Set with a TTL of 30..300 s; since then the TTL has shrunk by the time elapsed.
    lowest = 30 - (time.monotonic() - workload_run["started"]) - 1
    ttls = {key: client.ttl(key) for key in keys}
    assert all(lowest <= ttl <= 300 for ttl in ttls.values()), ttls
    assert after["keyspace_hits"] > before["keyspace_hits"] and after["keyspace_hits"] > 0
    assert after["keyspace_misses"] > before["keyspace_misses"] and after["keyspace_misses"] > 0


def test_n_plus_one_tops_pg_stat_statements(workload_run, demo_url):
    with psycopg.connect(demo_url) as conn:
        rows = conn.execute(
            "SELECT calls, query FROM pg_stat_statements s JOIN pg_database d ON d.oid = s.dbid"
            " WHERE d.datname = current_database() ORDER BY calls DESC").fetchall()
    lazy_loads = [(calls, query) for calls, query in rows if re.search(r"FROM users\s+WHERE users\.id = \$1", query)]
    assert lazy_loads, "the lazy load of Post.author is not in pg_stat_statements"
    assert lazy_loads[0][0] >= 20
    assert rows[0] == lazy_loads[0]  # the seed's statements were forgotten; the N+1 dominates


def index_scans(url: str, index: str) -> int:
    with psycopg.connect(url, autocommit=True) as conn:  # autocommit: a fresh stats snapshot each call
        return conn.execute("SELECT idx_scan FROM pg_stat_user_indexes WHERE indexrelname = %s", [index]).fetchone()[0]


def test_unused_index_stays_unused(workload_run, demo_url):
    # Backends flush their statistics when they exit, a moment after the workload's engine
    # closed them: wait until an index the feed uses shows scans, then check the unused one.
    deadline = time.monotonic() + 15
    while index_scans(demo_url, "ix_posts_created_at") == 0 and time.monotonic() < deadline:
        time.sleep(0.2)
    assert index_scans(demo_url, "ix_posts_created_at") > 0
    assert index_scans(demo_url, "ix_users_last_login_at") == 0


LOCK_WAITS_SQL = """SELECT w.pid, w.query, b.pid, b.state, b.query
                    FROM pg_stat_activity w JOIN pg_stat_activity b ON b.pid = ANY(pg_blocking_pids(w.pid))
                    WHERE w.application_name = %(app)s AND w.wait_event_type = 'Lock' AND w.query LIKE %(route)s"""
IDLE_SQL = """SELECT pid, query FROM pg_stat_activity
              WHERE application_name = %(app)s AND state = 'idle in transaction' AND query LIKE %(route)s"""


def test_workload_sessions_wait_on_a_hot_row_and_leave_a_transaction_idle(demo_url):
    stop, counts = threading.Event(), {}
    options = {"sessions": 3, "pause": (0.1, 0.3), "seed": 3, "lock_every_s": 4, "hold_s": 3, "idle_every_s": 4,
               "idle_s": 4}
    worker = threading.Thread(target=lambda: counts.update(run_workload(demo_url, None, stop=stop, **options)))
    worker.start()
    waits, idle, backends = set(), set(), set()
    try:
        with psycopg.connect(demo_url, autocommit=True) as conn:
            deadline = time.monotonic() + 30
            while not (waits and idle) and time.monotonic() < deadline:
                params = {"app": APPLICATION_NAME, "route": "%route='/posts/like'%"}
                waits |= set(conn.execute(LOCK_WAITS_SQL, params).fetchall())
                idle |= set(conn.execute(IDLE_SQL, {**params, "route": "%route='/reports/export'%"}).fetchall())
                backends |= {pid for (pid,) in conn.execute("SELECT pid FROM pg_stat_activity WHERE application_name = %s",
                                                            [APPLICATION_NAME])}
                time.sleep(0.2)
    finally:
        stop.set()
        worker.join()
    assert waits, "no session of the workload waited on the hot row"
    for waiting_pid, waiting_query, blocking_pid, blocking_state, blocking_query in waits:
        assert waiting_pid != blocking_pid and blocking_state == "idle in transaction"
        assert waiting_query.startswith("UPDATE posts SET like_count=(posts.like_count + $1::INTEGER) WHERE posts.id = $2")
        assert blocking_query == waiting_query  # both like post HOT_POST_ID; the first holds the row, the second waits
    [(_, idle_query)] = idle
    assert idle_query.startswith("SELECT posts.category_id, count(*) AS count_1") and "controller='reports'" in idle_query
    assert len(backends) >= 3  # the sessions run at once, each on its own connection
    assert counts["hot_row_update"] >= 1 and counts["idle_in_transaction"] >= 1 and "errors" not in counts, counts


def test_the_collector_keeps_a_lock_wait_of_the_demo_and_its_tree(demo_url, pg_admin_url):
    store = new_store(pg_admin_url)
    started = datetime.now(UTC)

    def workload() -> None:  # two sessions for 8 s, one hot-row episode 3 s in (its holder keeps the row 3 s)
        done = threading.Event()
        threading.Timer(8.0, done.set).start()
        counts = run_workload(demo_url, None, stop=done, sessions=2, pause=(0.1, 0.3), seed=5, lock_every_s=30)
        assert counts["hot_row_update"] == 1 and "errors" not in counts, counts

    collect_while(store, demo_url, workload)
    engine = make_engine(store)
    try:
        waits = load.lock_waits(engine, "app", started, datetime.now(UTC))
        liked = waits[waits["query"].str.startswith("UPDATE posts SET like_count")]
        assert len(liked) >= 4 and set(liked["lock_mode"]) == {"ShareLock"}  # 3 s sampled twice a second
        tree = load.blocking_tree_at(engine, "app", liked["sampled_at"].iloc[-1].to_pydatetime())
        holder, waiter = tree.iloc[0], tree[tree["pid"] == liked["waiting_pid"].iloc[-1]].iloc[0]
        assert (holder["depth"], holder["state"], waiter["blocking_pid"]) == (0, "idle in transaction", holder["pid"])
        assert "route='/posts/like'" in holder["query"] and "route='/posts/like'" in waiter["query"]
    finally:
        engine.dispose()
