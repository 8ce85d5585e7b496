"""Both advisors on the demo blog after its workload: the lazy load of Post.author is the N+1 suspect with its fix,
the selectinload statements are not, and the naive search gets the trigram index."""
import psycopg
import pytest

from demo.seed import create_demo_database
from demo.workload import run_workload
from queries.advisors.indexes import suggested_indexes
from queries.advisors.n_plus_one import GUESS_NOTE, n_plus_one
from queries.connection import make_engine

DATABASE = "pgpulse_demo_advisor"  # not test_demo's: both modules may run in one session


@pytest.fixture(scope="module")
def demo_engine(pg_admin_url, pg_version):
    url = create_demo_database(pg_admin_url, database=DATABASE)
    if pg_version // 10000 == 15:  # Debian's postgresql-15-hypopg: the suggestions get verified
        with psycopg.connect(url, autocommit=True) as conn:
            conn.execute("CREATE EXTENSION IF NOT EXISTS hypopg")
    run_workload(url, None, rounds=40, pause=(0, 0), seed=7)
    engine = make_engine(url)
    yield engine
    engine.dispose()


def test_the_demo_feed_is_an_n_plus_one_and_its_fix_is_not(demo_engine):
    found = n_plus_one(demo_engine)
    author = found[found["foreign_key"] == "posts.author_id -> users.id"]
    assert len(author) == 1, found[["query", "foreign_key"]]
    row = author.iloc[0]
    assert (row["child_table"], row["parent_table"], row["relationship"]) == ("users", "posts", "many-to-one")
    assert row["hint"] == ("posts.author_id -> users.id: load `Post.author` with `joinedload(Post.author)` or "
                           f"`selectinload(Post.author)` ({GUESS_NOTE})")
    assert row["calls_per_parent_call"] >= 2
    for query in found["query"]:
        assert " IN (" not in query and "ANY(" not in query.replace(" ", "")


def test_the_demo_search_gets_a_trigram_index(demo_engine):
    found = suggested_indexes(demo_engine)
    on_body = found[found["create_index"].str.contains("(body", regex=False)]
    assert list(on_body["create_index"]) == [
        "CREATE EXTENSION IF NOT EXISTS pg_trgm; CREATE INDEX ON posts USING gin (body gin_trgm_ops) WHERE deleted_at IS NULL"]

