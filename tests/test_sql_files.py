"""Every SQL file referenced by queries/ exists, every file is used, each says what it reads."""
import ast
from pathlib import Path

import pytest

from queries.sql_loader import SQL_DIR, load_sql, query_names, sql_files

QUERIES_DIR = Path(__file__).resolve().parents[1] / "queries"
SQL_CALLS = {"fetch_frame", "fetch_row", "load_sql", "Stored"}
SQL_KEYWORDS = {"texts_sql", "fallback_sql"}  # the catalogue's Stored(...) names the collector's SQL


def referenced_query_names() -> set[str]:
    """String literals passed as the query name to fetch_frame / fetch_row / load_sql (and the catalogue's Stored SQL)."""
    names = set()
    for path in [*QUERIES_DIR.glob("*.py"), *QUERIES_DIR.glob("advisors/*.py")]:
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, ast.Call) and getattr(node.func, "id", getattr(node.func, "attr", None)) in SQL_CALLS:
                named = [keyword.value for keyword in node.keywords if keyword.arg in SQL_KEYWORDS]
                positional = node.args[:1] if getattr(node.func, "id", None) == "Stored" else node.args[:2]
                for arg in [*positional, *named]:
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


def test_every_fragment_is_used_and_every_used_fragment_exists():
    from queries.sql_loader import FRAGMENT_DIR, fragment_names, fragments_used

    used = set().union(*(fragments_used(path.read_text()) for path in sql_files()))
    assert used == fragment_names(), f"unused: {fragment_names() - used}; missing: {used - fragment_names()}"
    for path in FRAGMENT_DIR.glob("*.sql"):
        assert path.read_text().startswith("-- "), path.name


def test_fragments_are_filled_in_for_the_server_version():
    old, new = load_sql("select_duplicate_indexes", 140000), load_sql("select_duplicate_indexes", 150000)
    assert "false AS nulls_not_distinct" in old and "i.indnullsnotdistinct AS nulls_not_distinct" in new
    assert "{{" not in old + new + load_sql("select_statements", 170000)


def test_an_unknown_fragment_is_an_error(monkeypatch, tmp_path):
    import queries.sql_loader as loader

    (tmp_path / "probe.sql").write_text("-- reads nothing\nSELECT {{no_such_fragment}}\n")
    monkeypatch.setattr(loader, "SQL_DIR", tmp_path)
    monkeypatch.setattr(loader, "FRAGMENT_DIR", tmp_path / "fragments")
    loader._variants.cache_clear(), loader._fragments.cache_clear(), loader.load_sql.cache_clear()
    try:
        with pytest.raises(KeyError, match="no_such_fragment"):
            loader.load_sql("probe")
    finally:
        monkeypatch.undo()
        loader._variants.cache_clear(), loader._fragments.cache_clear(), loader.load_sql.cache_clear()
