"""sqlcommenter comments read from statement texts: the format's encoding rules, and a tagged N+1 loop on a real
server whose route comes back on its suspect row."""
import sqlalchemy as sa
from sqlalchemy import event

from queries.advisors.n_plus_one import n_plus_one
from queries.advisors.sqlcommenter import comment_tags
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
