"""The demo workload tags its SQL sqlcommenter-style per route, and pg_stat_statements keeps the tags we parse back."""
import psycopg
import pytest
import sqlalchemy

from demo.seed import create_demo_database
from demo.workload import EPISODE_ROUTES, PATTERNS, ROUTES, run_workload
from queries.advisors.sqlcommenter import comment_tags

DATABASE = "pgpulse_demo_tags"  # its own database: pg_stat_statements keeps the text of an entry's first call

LAZY_AUTHOR = "WHERE users.id = $1"  # the feed's Post.author lazy load (one per distinct author); the fix is IN (...)


@pytest.fixture(scope="module")
def demo_statements(pg_admin_url):
    url = create_demo_database(pg_admin_url, database=DATABASE)
    counts = run_workload(url, None, rounds=len(PATTERNS), pause=(0, 0), seed=7)  # every pattern once
    assert "errors" not in counts, counts
    with psycopg.connect(url) as conn:
        return conn.execute(
            "SELECT query FROM pg_stat_statements WHERE dbid = (SELECT oid FROM pg_database WHERE datname = %s)",
            [DATABASE]).fetchall()


def test_every_pattern_has_its_own_route():
    assert set(ROUTES) == set(PATTERNS)
    routes = [tags["route"] for tags in [*ROUTES.values(), *EPISODE_ROUTES.values()]]
    assert len(set(routes)) == len(routes)


def test_the_feed_lazy_load_carries_the_feed_route(demo_statements):
    lazy = [query for (query,) in demo_statements if LAZY_AUTHOR in query]
    assert len(lazy) == 1, [query for (query,) in demo_statements]
    assert lazy[0].endswith("/*action='index',controller='feed',db_driver='psycopg',db_framework='sqlalchemy%3A"
                            f"{sqlalchemy.__version__}',route='/feed'*/")
    tags = comment_tags(lazy[0])
    assert (tags["route"], tags["controller"], tags["action"]) == ("/feed", "feed", "index")
    assert tags["db_driver"] == "psycopg"
    assert tags["db_framework"].startswith("sqlalchemy:")


def test_the_fixed_feed_and_the_search_have_their_routes(demo_statements):
    routes = {comment_tags(query).get("route") for (query,) in demo_statements}
    assert {"/feed", "/feed-fixed", "/posts", "/search", "/users/sync", "/posts/views"} <= routes
    in_list = [query for (query,) in demo_statements if "WHERE users.id IN" in query]
    # selectinload(Post.author) runs on the fixed feed first, then on the tag page (its own entry where PostgreSQL
    # < 18 keeps IN lists of other lengths apart); never on the lazy feed.
    in_list_routes = {comment_tags(query)["route"] for query in in_list}
    assert "/feed-fixed" in in_list_routes and in_list_routes <= {"/feed-fixed", "/posts"}, in_list
