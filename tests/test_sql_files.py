"""Every SQL file referenced by queries/ exists, every file is used, each says what it reads."""
import ast
from pathlib import Path

import pytest

from queries.sql_loader import SQL_DIR, load_sql, query_names, sql_files

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
SQL_CALLS = {"fetch_frame", "fetch_row", "load_sql"}


def referenced_query_names() -> set[str]:
    """String literals passed as the query name to fetch_frame / fetch_row / load_sql."""
    names = set()
    for path in QUERIES_DIR.glob("*.py"):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in SQL_CALLS:
                for arg in node.args[:2]:
                    if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                        names.add(arg.value)
    return names


def test_every_referenced_sql_file_exists():
    missing = referenced_query_names() - query_names()
    assert not missing, f"referenced but no .sql file: {missing}"


def test_every_sql_file_is_used():
    unused = query_names() - referenced_query_names()
    assert not unused, f".sql files nobody calls: {unused}"


@pytest.mark.parametrize("path", sql_files(), ids=lambda path: path.name)
def test_each_file_starts_with_a_comment_of_what_it_reads(path):
    assert path.read_text().startswith("-- ")


def test_version_variant_is_chosen_by_highest_suffix_not_above_the_server():
    assert "blk_read_time AS" in load_sql("select_statements", 160004)
    assert "shared_blk_read_time AS" not in load_sql("select_statements", 160004)
    assert "shared_blk_read_time AS" in load_sql("select_statements", 170000)
    assert "shared_blk_read_time AS" in load_sql("select_statements", 180001)


def test_unknown_query_name_is_an_error():
    with pytest.raises(KeyError, match="no SQL file"):
        load_sql("no_such_query")
    assert SQL_DIR.is_dir()


def test_every_statement_is_marked_after_its_first_keyword():
    from queries.sql_loader import OWN_STATEMENT_MARK, mark_own

    assert mark_own("-- reads x\nSELECT 1") == "-- reads x\nSELECT /* pgpulse */ 1"
    assert mark_own("WITH a AS (SELECT 1) SELECT * FROM a").startswith("WITH /* pgpulse */ a AS")
    for name in query_names():
        body = load_sql(name).split("\n", 1)[1]  # after the file's leading comment line
        assert OWN_STATEMENT_MARK in body.split("\n", 3)[0] + body, name
