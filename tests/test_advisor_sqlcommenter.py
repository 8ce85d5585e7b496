"""sqlcommenter comments read from statement texts: the format's encoding rules, and a tagged N+1 loop on a real
server whose route comes back on its suspect row."""
import psycopg
import sqlalchemy as sa
from sqlalchemy import event

from queries.advisors.n_plus_one import n_plus_one
from queries.advisors.sqlcommenter import comment_tags
from queries.statements import statements
from tests.test_n_plus_one import ROUNDS, _feed, blog  # noqa: F401 - blog is a fixture


def test_comment_tags_follow_the_sqlcommenter_format():
    query = "SELECT * FROM users WHERE id = $1 /*action='show',controller='feed',route='%2Ffeed',file='app.py%3A42'*/"
    assert comment_tags(query) == {"action": "show", "controller": "feed", "route": "/feed", "file": "app.py:42"}
    assert comment_tags("SELECT 1 /*name='it\\'s'*/;") == {"name": "it's"}
    assert comment_tags("SELECT /* pgpulse */ 1") == {}  # an ordinary comment is not a tag list
    assert comment_tags("SELECT 1 /*route='/a'*/ FROM t") == {}  # only a comment ending the statement counts
    assert comment_tags("SELECT 1 /*route='/a', bad*/") == {}
    assert comment_tags(None) == {}


def _tag_statements(orm: sa.Engine, route: str) -> None:
    """What OpenTelemetry's SQLAlchemy instrumentation does with enable_commenter: a comment after each statement."""
    @event.listens_for(orm, "before_cursor_execute", retval=True)
    def comment(conn, cursor, statement, parameters, context, executemany):
        encoded = route.replace("/", "%%2F")  # URL-encoded, and % doubled for psycopg's placeholders
        return f"{statement} /*controller='feed',route='{encoded}'*/", parameters


def test_an_n_plus_one_row_names_the_route_that_runs_the_loop(blog, engine):  # noqa: F811
    _tag_statements(blog, "/feed")
    for _ in range(ROUNDS):
        _feed(blog)
    found = n_plus_one(engine).set_index("child_table")
    assert list(found.loc[["comments", "users"], "route"]) == ["/feed", "/feed"]
    assert found.loc["users", "controller"] == "feed"
    assert found.loc["users", "comment_tags"] == "controller=feed, route=/feed"
    assert found.loc["users", "query"].endswith("/*controller='feed',route='%2Ffeed'*/")


FEED = "/*route='/feed',controller='feed'*/"
POSTS = "/*route='%2Fposts',controller='posts',action='index'*/"  # URL-encoded, as OpenTelemetry writes it


def _tagged_workload(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE TABLE feed_items (id int PRIMARY KEY, author_id int)")
        conn.execute("SELECT pg_stat_statements_reset()")
        for n in range(3):
            conn.execute(f"SELECT id FROM feed_items WHERE author_id = %s {FEED}", (n,))
            conn.execute(f"SELECT count(*) FROM feed_items {FEED}")
            conn.execute(f"SELECT id FROM feed_items WHERE id = %s {POSTS.replace('%', '%%')}", (n,))
            conn.execute("SELECT max(id) FROM feed_items")


def test_statements_carry_their_tags_and_filter_by_route(fresh_db, engine):
    _tagged_workload(fresh_db)
    frame = statements(engine).set_index("query")
    assert frame.loc["SELECT id FROM feed_items WHERE author_id = $1 " + FEED, ["route", "controller", "action"]].tolist() == [
        "/feed", "feed", None]
    assert frame.loc["SELECT id FROM feed_items WHERE id = $1 " + POSTS, ["route", "controller", "action"]].tolist() == [
        "/posts", "posts", "index"]
    assert frame.loc["SELECT max(id) FROM feed_items", ["route", "comment_tags"]].isna().all()
    feed = statements(engine, route="/feed", limit=1, sort_by="calls")
    assert len(feed) == 1 and feed.loc[0, "route"] == "/feed" and feed.loc[0, "calls"] == 3
    assert sorted(statements(engine, route="/feed")["query"]) == [
        "SELECT count(*) FROM feed_items " + FEED, "SELECT id FROM feed_items WHERE author_id = $1 " + FEED]
    assert statements(engine, route="/nowhere").empty


def test_statements_over_the_range_carry_their_tags(pg_admin_url, fresh_db):
    from datetime import UTC, datetime, timedelta

    from queries.connection import make_engine
    from queries.history.reads import statements_over_range
    from tests.history_support import collect_once, new_store

    store = new_store(pg_admin_url)
    _tagged_workload(fresh_db)
    start = datetime.now(UTC) - timedelta(minutes=1)
    assert collect_once(store, ("app", fresh_db))  # the base
    _tagged_workload_again(fresh_db)
    assert collect_once(store, ("app", fresh_db))
    store_engine = make_engine(store)
    try:
        frame = statements_over_range(store_engine, "app", start, datetime.now(UTC) + timedelta(minutes=1))
    finally:
        store_engine.dispose()
    tagged = frame[frame["route"].notna()].set_index("query")
    assert tagged["route"].to_dict() == {"SELECT id FROM feed_items WHERE author_id = $1 " + FEED: "/feed",
                                         "SELECT count(*) FROM feed_items " + FEED: "/feed",
                                         "SELECT id FROM feed_items WHERE id = $1 " + POSTS: "/posts"}
    assert tagged.loc["SELECT id FROM feed_items WHERE id = $1 " + POSTS, "calls"] == 2


def _tagged_workload_again(url: str) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for n in range(2):
            conn.execute(f"SELECT id FROM feed_items WHERE author_id = %s {FEED}", (n,))
            conn.execute(f"SELECT count(*) FROM feed_items {FEED}")
            conn.execute(f"SELECT id FROM feed_items WHERE id = %s {POSTS.replace('%', '%%')}", (n,))


def test_a_sessions_tags_show_on_the_activity_list(fresh_db, engine):
    from queries.activity import activity
    from tests.test_queries_activity import Session, wait_for

    session = Session(fresh_db)
    try:
        session.start(f"SELECT pg_sleep(3) {FEED}")
        sessions = wait_for(lambda: activity(engine), lambda found: session.pid in set(found["pid"])
                            and found.loc[found["pid"] == session.pid, "state"].iloc[0] == "active")
        row = sessions[sessions["pid"] == session.pid].iloc[0]
        assert (row["route"], row["controller"], row["comment_tags"]) == ("/feed", "feed", "route=/feed, controller=feed")
    finally:
        session.close()


def test_queries_page_shows_the_route_and_filters_by_it(app_env):
    from tests.test_app import run_page

    _tagged_workload(app_env)
    app = run_page("views/queries.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    shown = app.dataframe[0].value
    assert {"route", "controller", "action"} <= set(shown.columns)
    assert set(shown["route"].dropna()) == {"/feed", "/posts"}
    app.text_input(key="q_route").input("/feed").run()
    assert not app.exception and not app.error
    assert sorted(app.dataframe[0].value["query"]) == [
        "SELECT count(*) FROM feed_items " + FEED, "SELECT id FROM feed_items WHERE author_id = $1 " + FEED]
