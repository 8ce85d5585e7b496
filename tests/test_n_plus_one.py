"""The N+1 detector on real loops: SQLAlchemy lazy loads of the demo's blog models next to their selectinload fix,
a plain psycopg loop whose parameters split one statement into two queryids, and key lookups with no loop."""
import subprocess

import psycopg
import pytest
import sqlalchemy as sa
from sqlalchemy.engine import make_url
from sqlalchemy.orm import Session, selectinload

from demo.models import Base, Comment, Post, User
from queries.advisors.n_plus_one import GUESS_NOTE, n_plus_one
from queries.connection import normalize_url
from queries.health import health_checks

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

POSTS, ROUNDS = 20, 5


@pytest.fixture
def blog(fresh_db):
    """The demo's tables with 20 posts, each by its own author and with two comments; statistics reset after."""
    orm = sa.create_engine(normalize_url(fresh_db))
    Base.metadata.create_all(orm)
    with Session(orm) as session:
        for number in range(POSTS):
            author = User(username=f"u{number}", email=f"u{number}@example.com", display_name=f"User {number}")
            post = Post(author=author, title=f"Post {number}", body="text")
            post.comments = [Comment(author=author, body="first"), Comment(author=author, body="second")]
            session.add(post)
        session.commit()
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    yield orm
    orm.dispose()


def _feed(orm: sa.Engine, *options) -> int:
    """One page of posts with each post's author and comments, in a new session (so nothing is cached)."""
    with Session(orm) as session:
        posts = session.scalars(sa.select(Post).order_by(Post.id).limit(POSTS).options(*options)).all()
        return sum(len(post.author.display_name) + len(post.comments) for post in posts)


def test_lazy_loads_are_suspects_with_their_foreign_key_and_fix_and_selectinload_is_not(blog, engine):
    for _ in range(ROUNDS):
        _feed(blog)  # N+1: one SELECT of posts, then per post one of users (by pk) and one of comments (by fk)
        _feed(blog, selectinload(Post.author), selectinload(Post.comments))  # the fix: two IN (...) statements
    found = n_plus_one(engine).set_index("child_table")
    assert sorted(found.index) == ["comments", "users"]
    # the posts listing ran 10 times (5 lazy rounds, 5 fixed ones with the same text); each loop 20 times per round
    author = found.loc["users"]
    assert (author["calls"], author["calls_per_parent_call"], author["parent_table"]) == (100, 10.0, "posts")
    assert author["foreign_key"] == "posts.author_id -> users.id"
    assert author["relationship"] == "many-to-one" and author["loader_option"] == "joinedload(Post.author)"
    assert author["hint"] == ("posts.author_id -> users.id: load `Post.author` with `joinedload(Post.author)` or "
                              f"`selectinload(Post.author)` ({GUESS_NOTE})")
    assert "FROM users" in author["query"] and "users.id = $1" in author["query"]
    comments = found.loc["comments"]
    assert (comments["calls"], comments["calls_per_parent_call"], comments["parent_table"]) == (100, 10.0, "posts")
    assert comments["foreign_key"] == "comments.post_id -> posts.id"
    assert comments["loader_option"] == "selectinload(Post.comments)"
    assert comments["hint"] == ("comments.post_id -> posts.id: load `Post.comments` with `selectinload(Post.comments)` "
                                f"({GUESS_NOTE})")
    assert author["parent_query"] == comments["parent_query"] and "FROM posts ORDER BY posts.id" in author["parent_query"]
    for query in found["query"]:
        assert " IN (" not in query and "ANY(" not in query.replace(" ", "")
    checks = health_checks(engine, groups=("catalog",)).set_index("check")
    assert checks.loc["N+1 query patterns", "status"] == "warn"
    assert checks.loc["N+1 query patterns", "value"] == 2
    assert checks.loc["N+1 query patterns", "detail"].startswith("2 N+1 suspects, the busiest read 10.0 times per call")


def test_only_the_fix_flags_nothing(blog, engine):
    for _ in range(ROUNDS * 2):
        _feed(blog, selectinload(Post.author), selectinload(Post.comments))
    assert n_plus_one(engine).empty
    checks = health_checks(engine, groups=("catalog",)).set_index("check")
    assert checks.loc["N+1 query patterns", "status"] == "pass"


def test_a_loop_split_across_parameter_types_is_counted_once(fresh_db, engine):
    """psycopg sends 7 as int2 and 70000 as int4: the same text under two queryids, one loop."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE customers (id int PRIMARY KEY, name text NOT NULL)")
        conn.execute("CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL REFERENCES customers)")
        conn.execute("INSERT INTO customers SELECT g, 'c' || g FROM generate_series(1, 10) g "
                     "UNION ALL SELECT g, 'c' || g FROM generate_series(70001, 70010) g")
        conn.execute("INSERT INTO orders SELECT row_number() OVER (), id FROM customers")
        conn.execute("SELECT pg_stat_statements_reset()")
        for _ in range(4):
            for (customer_id,) in conn.execute("SELECT customer_id FROM orders ORDER BY id").fetchall():
                conn.execute("SELECT name FROM customers WHERE id = %s", (customer_id,))
        queryids = conn.execute("SELECT count(DISTINCT queryid) FROM pg_stat_statements "
                                "WHERE query = 'SELECT name FROM customers WHERE id = $1'").fetchone()[0]
    assert queryids == 2  # the condition this test is about
    found = n_plus_one(engine)
    assert len(found) == 1
    row = found.iloc[0]
    assert (row["query"], row["calls"], row["calls_per_parent_call"]) == ("SELECT name FROM customers WHERE id = $1", 80, 20.0)
    assert (row["child_table"], row["parent_table"], row["foreign_key"]) == ("customers", "orders",
                                                                           "orders.customer_id -> customers.id")
    assert len(row["queryids"].split(", ")) == 2
    assert row["hint"].startswith("orders.customer_id -> customers.id: load `Order.customer` with `joinedload(Order.customer)`")


def test_key_lookups_without_a_foreign_key_are_not_suspects(fresh_db, engine):
    """pgbench's shape: many lookups by primary key, but no foreign key ties them to another statement's table."""
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE accounts (aid int PRIMARY KEY, abalance int NOT NULL)")
        conn.execute("CREATE TABLE branches (bid int PRIMARY KEY, bbalance int NOT NULL)")
        conn.execute("INSERT INTO accounts SELECT g, 0 FROM generate_series(1, 100) g")
        conn.execute("INSERT INTO branches VALUES (1, 0)")
        conn.execute("SELECT pg_stat_statements_reset()")
        for aid in range(1, 101):
            conn.execute("SELECT bbalance FROM branches WHERE bid = 1")
            conn.execute("SELECT abalance FROM accounts WHERE aid = %s", (aid,))
            conn.execute("SELECT abalance FROM accounts ORDER BY aid LIMIT 1")
    assert n_plus_one(engine).empty


def test_queries_page_names_the_loop_and_its_fix(blog, app_env):
    from tests.test_app import run_page

    for _ in range(ROUNDS):
        _feed(blog)
    app = run_page("views/queries.py")
    assert not app.exception and not app.error
    suspects = next(frame.value for frame in app.dataframe if "hint" in frame.value.columns)
    assert sorted(suspects["foreign_key"]) == ["comments.post_id -> posts.id", "posts.author_id -> users.id"]
    assert any("selectinload(Post.comments)" in hint for hint in suspects["hint"])


def _pgbench(pg_server, url: str, *args: str) -> None:
    """The pgbench shipped with the server under test, on loopback, bounded by a fixed transaction count."""
    program = pg_server.bin_dir / "pgbench"
    if not program.exists():
        pytest.skip(f"no pgbench in {pg_server.bin_dir}")
    parts = make_url(url)
    done = subprocess.run([str(program), "-h", "127.0.0.1", "-p", str(parts.port), "-U", parts.username, *args,
                           parts.database], capture_output=True, text=True, timeout=300, cwd="/")
    assert done.returncode == 0, done.stderr


def test_pgbench_flags_no_n_plus_one_and_needs_no_index(pg_server, fresh_db, engine):
    """pgbench's own schema with its foreign keys and its own workloads: primary-key lookups and updates, no loop
    over a parent's rows and no unindexed filter, so both advisors stay quiet."""
    from queries.advisors.indexes import suggested_indexes

    _pgbench(pg_server, fresh_db, "-i", "--foreign-keys", "-s", "1", "-q")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("SELECT pg_stat_statements_reset()")
    _pgbench(pg_server, fresh_db, "-c", "2", "-t", "200", "-n")  # tpcb-like, 400 transactions
    _pgbench(pg_server, fresh_db, "-S", "-c", "2", "-t", "200", "-n")  # select-only
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_constraint WHERE contype = 'f' AND conrelid::regclass::text "
                            "LIKE 'pgbench_%'").fetchone()[0] >= 3  # the foreign keys a loop would be found by
        calls = conn.execute("SELECT sum(calls) FROM pg_stat_statements WHERE query LIKE 'SELECT abalance FROM "
                             "pgbench_accounts WHERE aid = $1'").fetchone()[0]
    assert calls == 800  # every transaction read one account by its key: what an N+1 child looks like alone
    assert n_plus_one(engine).empty
    assert suggested_indexes(engine).empty
