"""What the advisors read from a statement (queries/advisors/shape.py, PostgreSQL's own parser via pglast): joins,
BETWEEN, IN / ANY, ORDER BY with LIMIT, LIKE patterns, and what has no shape; and, on a real server, no B-tree on a
column too wide for one."""
import psycopg
import pytest

from queries.advisors.indexes import NOT_VERIFIED, suggested_indexes
from queries.advisors.shape import (
    EQUALITY,
    IN_LIST,
    JOIN,
    ORDER,
    PREFIX,
    RANGE,
    WILDCARD,
    Predicate,
    TableRef,
    statement_shape,
)


def test_a_join_resolves_aliases_and_keeps_both_keys():
    shape = statement_shape("SELECT p.id FROM posts p JOIN users u ON u.id = p.author_id WHERE u.email = $1")
    assert shape.tables == (TableRef(None, "posts", "p"), TableRef(None, "users", "u"))
    assert shape.predicates == (Predicate("u", "email", EQUALITY, parameter=1), Predicate("u", "id", JOIN),
                                Predicate("p", "author_id", JOIN))
    assert shape.tables[1].answers_to("u") and not shape.tables[1].answers_to("users")


def test_between_is_a_range():
    shape = statement_shape("SELECT id FROM sales.events WHERE created_at BETWEEN $1 AND $2 AND kind >= $3")
    assert shape.tables == (TableRef("sales", "events", None),)
    assert shape.predicates == (Predicate(None, "created_at", RANGE), Predicate(None, "kind", RANGE))
    assert shape.parameter_count == 3


@pytest.mark.parametrize("sql", ["SELECT id FROM posts WHERE author_id IN ($1, $2, $3)",
                                 "SELECT id FROM posts WHERE author_id = ANY($1)"])
def test_in_lists_and_any_are_the_batched_loads_of_selectinload(sql):
    shape = statement_shape(sql)
    assert shape.predicates == (Predicate(None, "author_id", IN_LIST),) and shape.reads_lists


def test_an_or_is_served_by_no_single_index_column():
    assert statement_shape("SELECT id FROM posts WHERE author_id = $1 OR title = $2").predicates == ()


def test_order_by_counts_only_with_a_limit():
    limited = statement_shape("SELECT id FROM posts WHERE author_id = $1 ORDER BY created_at DESC LIMIT 20")
    assert limited.predicates == (Predicate(None, "author_id", EQUALITY, parameter=1), Predicate(None, "created_at", ORDER))
    assert limited.has_limit
    everything = statement_shape("SELECT id FROM posts WHERE author_id = $1 ORDER BY created_at DESC")
    assert everything.predicates == (Predicate(None, "author_id", EQUALITY, parameter=1),) and not everything.has_limit


@pytest.mark.parametrize("where, kind", [("title LIKE 'abc%'", PREFIX), ("title LIKE '%abc'", WILDCARD),
                                         ("title LIKE $1", WILDCARD), ("title ILIKE 'abc%'", WILDCARD),
                                         ("title ~~ 'abc%'", PREFIX), ("title ~~* 'abc%'", WILDCARD)])
def test_like_patterns(where, kind):
    assert statement_shape(f"SELECT id FROM posts WHERE {where}").predicates == (Predicate(None, "title", kind),)


@pytest.mark.parametrize("sql", ["UPDATE posts SET title = $1 WHERE id = $2", "SELECT 1; SELECT 2", "SELECT id FROM",
                                 "SELECT id FROM posts WHERE id = $1 FOR UPDATE"])
def test_writes_locks_several_statements_and_truncated_texts_have_no_shape(sql):
    assert statement_shape(sql) is None


@pytest.mark.all_versions
def test_no_b_tree_on_a_column_too_wide_for_one(fresh_db, engine):
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE wide (id int PRIMARY KEY, kind int NOT NULL, doc text NOT NULL)")
        conn.execute("INSERT INTO wide SELECT g, g % 1000, repeat(md5(g::text), 20) FROM generate_series(1, 20000) g")
        conn.execute("ANALYZE wide")
        conn.execute("SELECT pg_stat_statements_reset()")
        for n in range(10):
            conn.execute("SELECT id FROM wide WHERE doc = %s AND kind = %s", (f"x{n}", n))
            conn.execute("SELECT id FROM wide WHERE doc = %s", (f"y{n}",))
    found = suggested_indexes(engine)  # pg_stats' avg_width of doc is 644 bytes: past the 500-byte limit
    assert list(found["create_index"]) == ["CREATE INDEX ON wide (kind)"]
    assert found.loc[0, "reason"] == (f"equality on kind; {NOT_VERIFIED}; 0.0 rows returned per call from a table of "
                                      "about 20,000 rows")
