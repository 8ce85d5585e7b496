"""queries.plan: real plans from PostgreSQL 15 and 18 (through explain()), and hand-made JSON edge cases."""
import re
import uuid

import pandas as pd
import psycopg
import pytest

from queries.advisors.indexes import NOT_VERIFIED
from queries.advisors.shape import EQUALITY, RANGE, WILDCARD, Predicate, filter_predicates
from queries.connection import make_engine
from queries.explain import ExplainOptions, explain
from queries.plan import compare_plans, flagged_nodes, node_changes, plan_nodes, plan_summary, plan_text
from tests.conftest import create_database

SETUP = """
CREATE TABLE big AS SELECT g AS id, g % 100 AS v, g % 100 AS w, md5(g::text) AS s FROM generate_series(1, 60000) g;
CREATE TABLE big2 AS SELECT g AS id, md5(g::text) AS s FROM generate_series(1, 60000) g;
CREATE TABLE small AS SELECT g * 7 AS id FROM generate_series(1, 50) g;
CREATE UNIQUE INDEX big_id ON big (id);
CREATE INDEX big_v ON big (v);
CREATE TABLE "Weird Table" AS SELECT g AS "Val" FROM generate_series(1, 30000) g;
CREATE TABLE posts AS SELECT g AS id, md5(g::text) || CASE WHEN g % 100 = 0 THEN ' PostgreSQL' ELSE '' END AS body
FROM generate_series(1, 20000) g;
CREATE TABLE wide AS SELECT g AS id, repeat(md5(g::text), 20) AS doc FROM generate_series(1, 20000) g;
ANALYZE big; ANALYZE big2; ANALYZE small; ANALYZE "Weird Table"; ANALYZE posts; ANALYZE wide;
"""
PARALLEL = {"parallel_setup_cost": "0", "parallel_tuple_cost": "0", "min_parallel_table_scan_size": "0",
            "max_parallel_workers_per_gather": "2"}


@pytest.fixture(scope="module")
def engine(pg_admin_url):
    """One database per server for the whole module: the tables are only read."""
    name = f"plan_{uuid.uuid4().hex[:8]}"
    url = create_database(pg_admin_url, name, extension=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
    engine = make_engine(url)
    yield engine
    engine.dispose()
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(engine, sql, **settings):
    return explain(engine, sql, ExplainOptions(planner_settings=settings))


def assert_exclusive_sums_to_execution(result):
    total = result.nodes["exclusive_ms"].sum()
    assert total == pytest.approx(result.execution_ms, abs=max(0.5, 0.05 * result.execution_ms))
    assert (result.nodes["exclusive_ms"] >= 0).all()


def node(result, node_type, **match):
    rows = result.nodes[result.nodes["node_type"] == node_type]
    for key, value in match.items():
        rows = rows[rows[key] == value]
    assert len(rows) == 1, f"{node_type} {match} not exactly once in\n{result.text_plan}"
    return rows.iloc[0]


def test_nested_loop_with_index_scan(engine):
    result = run(engine, "SELECT * FROM small JOIN big USING (id)", enable_hashjoin="off", enable_mergejoin="off")
    loop = node(result, "Nested Loop")
    assert loop["join_type"] == "Inner"
    inner = node(result, "Index Scan", index_name="big_id")
    assert inner["parent_id"] == loop["node_id"] and inner["parent_relationship"] == "Inner"
    assert inner["actual_loops"] == 50
    assert inner["actual_rows_total"] == 50
    assert node(result, "Seq Scan", relation="small")["actual_rows"] == 50
    assert result.nodes.loc[0, "actual_rows_total"] == 50
    assert_exclusive_sums_to_execution(result)


def test_hash_join_spilling_to_batches_is_flagged(engine):
    result = run(engine, "SELECT * FROM big JOIN big2 USING (id)", work_mem="64kB", enable_mergejoin="off",
                 enable_nestloop="off", max_parallel_workers_per_gather="0")
    node(result, "Hash Join")
    hashed = node(result, "Hash")
    assert hashed["hash_batches"] > 1
    assert f"hash spilled: {hashed['hash_batches']} batches, raise work_mem" in hashed["flags"]
    assert result.nodes.loc[result.nodes["node_type"] != "Hash", "flags"].map(
        lambda flags: any("hash spilled" in flag for flag in flags)).sum() == 0
    assert_exclusive_sums_to_execution(result)


def test_merge_join(engine):
    result = run(engine, "SELECT count(*) FROM big JOIN big2 USING (id)", enable_hashjoin="off", enable_nestloop="off",
                 max_parallel_workers_per_gather="0")
    merge = node(result, "Merge Join")
    assert merge["actual_rows"] == 60000
    assert {"Sort", "Index Scan"} & set(result.nodes["node_type"])
    assert_exclusive_sums_to_execution(result)


def test_parallel_seq_scan_times_are_wall_clock(engine):
    result = run(engine, "SELECT count(*) FROM big WHERE s LIKE 'a%'", **PARALLEL)
    gather = node(result, "Gather")
    scan = node(result, "Parallel Seq Scan", relation="big")
    assert gather["workers_planned"] == 2
    processes = gather["workers_launched"] + 1
    assert scan["actual_loops"] == processes
    raw = result.plan_json[0]["Plan"]["Plans"][0]["Plans"][0]["Plans"][0]
    assert scan["inclusive_ms"] == pytest.approx(raw["Actual Total Time"] * raw["Actual Loops"] / processes)
    assert scan["actual_rows_total"] + scan["rows_removed_by_filter"] == pytest.approx(60000, abs=3)
    assert_exclusive_sums_to_execution(result)


def test_cte_time_is_counted_once(engine):
    result = run(engine, "WITH c AS MATERIALIZED (SELECT * FROM big WHERE v < 5) "
                         "SELECT count(*) FROM c a JOIN c b USING (id)", max_parallel_workers_per_gather="0")
    cte = result.nodes[result.nodes["subplan_name"] == "CTE c"].iloc[0]
    assert cte["inclusive_ms"] == pytest.approx(result.nodes[result.nodes["parent_id"] == cte["node_id"]]["inclusive_ms"].sum()
                                                + cte["exclusive_ms"])
    assert cte["parent_relationship"] == "InitPlan"
    scans = result.nodes[result.nodes["node_type"] == "CTE Scan"]
    assert list(scans["cte_name"]) == ["c", "c"]
    # the CTE ran inside one of its scans: that scan's own time excludes it
    assert scans["exclusive_ms"].sum() < scans["inclusive_ms"].sum() - 0.5 * cte["inclusive_ms"]
    root = result.nodes.iloc[0]
    assert root["exclusive_ms"] < 0.5 * root["inclusive_ms"]
    assert_exclusive_sums_to_execution(result)


def test_initplan_of_scalar_subquery(engine):
    result = run(engine, "SELECT count(*) FROM big WHERE id > (SELECT avg(id) FROM big2)", max_parallel_workers_per_gather="0")
    initplan = result.nodes[result.nodes["parent_relationship"] == "InitPlan"]
    assert len(initplan) == 1
    assert initplan.iloc[0]["node_type"] == "Aggregate"
    assert initplan.iloc[0]["subplan_name"].startswith("InitPlan 1")
    assert node(result, "Seq Scan", relation="big2")["actual_rows"] == 60000
    assert_exclusive_sums_to_execution(result)


def test_sort_spilling_to_disk_is_flagged(engine):
    result = run(engine, "SELECT * FROM big2 ORDER BY s", work_mem="64kB", max_parallel_workers_per_gather="0")
    sort = node(result, "Sort")
    assert sort["sort_space_type"] == "Disk"
    assert sort["sort_method"] == "external merge"
    assert any(re.fullmatch(r"sort spilled to disk: \d+ (MB|kB)", flag) for flag in sort["flags"])
    assert sort["temp_written_blocks"] > 0
    assert plan_summary(result.plan_json).total_temp_blocks > 0
    assert_exclusive_sums_to_execution(result)


def test_bitmap_heap_scan(engine):
    result = run(engine, "SELECT count(*) FROM big WHERE v IN (1, 2)", enable_seqscan="off", enable_indexscan="off",
                 enable_indexonlyscan="off", max_parallel_workers_per_gather="0")
    heap = node(result, "Bitmap Heap Scan", relation="big")
    index = node(result, "Bitmap Index Scan", index_name="big_v")
    assert index["parent_id"] == heap["node_id"]
    assert heap["actual_rows"] == 1200
    assert "v = ANY" in index["index_cond"]
    assert_exclusive_sums_to_execution(result)


def test_selective_seq_scan_gets_an_index_suggestion(engine):
    result = run(engine, "SELECT * FROM big2 WHERE s = md5('77')", max_parallel_workers_per_gather="0")
    scan = node(result, "Seq Scan", relation="big2")
    assert scan["removed_percent"] > 99
    assert scan["index_columns"] == ["s"]
    assert scan["index_suggestion"] == "CREATE INDEX ON big2 (s)"
    # the Indexes page's words: no HypoPG in this database, so the evidence instead of a verdict
    assert scan["index_advice"] == (f"equality on s; {NOT_VERIFIED}; 1.0 rows returned per call from a table of "
                                    "about 60,000 rows")
    assert "filter removed 100% of rows read" in scan["flags"]
    assert "selective filter on 60000 rows read: an index on (s) may help" in scan["flags"]
    assert any(flag.startswith("slowest: ") for flag in scan["flags"])


def test_nodes_without_a_suggestion_hold_none_not_nan(engine):
    """The CLI once printed "suggestion: nan": pandas turns None into NaN next to strings."""
    result = run(engine, "SELECT count(*) FROM big2 WHERE s = md5('77')", max_parallel_workers_per_gather="0")
    assert result.nodes["index_suggestion"].tolist() == [None, "CREATE INDEX ON big2 (s)"]


def test_index_suggestion_quotes_identifiers_in_postgresql(engine):
    result = explain(engine, 'SELECT * FROM "Weird Table" WHERE "Val" = 5',
                     ExplainOptions(verbose=True, planner_settings={"max_parallel_workers_per_gather": "0"}))
    scan = node(result, "Seq Scan")
    assert scan["relation"] == "public.Weird Table"
    assert scan["index_suggestion"] == 'CREATE INDEX ON "Weird Table" ("Val")'


def test_a_wildcard_pattern_gets_a_trigram_index_never_a_b_tree(engine):
    """The demo's search: Explain once advised CREATE INDEX ON posts (body), which no ILIKE '%...%' can use."""
    result = run(engine, "SELECT id FROM posts WHERE body ILIKE '%postgres%'", max_parallel_workers_per_gather="0")
    scan = node(result, "Seq Scan", relation="posts")
    assert scan["filter"] == "(body ~~* '%postgres%'::text)" and scan["actual_rows"] == 200
    assert "selective filter on 20000 rows read: a trigram index on (body) may help" in scan["flags"]
    assert scan["index_suggestion"] == ("CREATE EXTENSION IF NOT EXISTS pg_trgm; "
                                        "CREATE INDEX ON posts USING gin (body gin_trgm_ops)")
    assert scan["index_advice"] == ("LIKE / ILIKE that may start with a wildcard (trigram) on body; "
                                    f"{NOT_VERIFIED}; 200.0 rows returned per call from a table of about 20,000 rows")
    # a prefix LIKE is a B-tree's, as on the Indexes page
    prefix = node(run(engine, "SELECT id FROM posts WHERE body LIKE 'abc%'", max_parallel_workers_per_gather="0"),
                  "Seq Scan")
    assert prefix["index_suggestion"] == "CREATE INDEX ON posts (body)"


def test_a_column_too_wide_for_a_b_tree_gets_none_and_says_why(engine):
    result = run(engine, "SELECT id FROM wide WHERE doc = repeat(md5('7'), 20)", max_parallel_workers_per_gather="0")
    scan = node(result, "Seq Scan", relation="wide")
    assert scan["index_columns"] == ["doc"] and scan["index_suggestion"] is None
    assert scan["index_advice"] == "no B-tree on doc: its values average 644 bytes (pg_stats), too wide for one"


def test_a_seq_scan_beside_a_usable_index_says_the_planner_chose_it(engine):
    result = run(engine, "SELECT * FROM big WHERE v = 7", enable_indexscan="off", enable_bitmapscan="off",
                 max_parallel_workers_per_gather="0")
    scan = node(result, "Seq Scan", relation="big")
    assert scan["index_suggestion"] is None
    assert scan["index_advice"] == "big has an index starting with (v): the planner chose not to use it"


def test_small_table_or_unselective_filter_gets_no_suggestion(engine):
    result = run(engine, "SELECT * FROM small WHERE id = 7")
    assert node(result, "Seq Scan")["index_suggestion"] is None
    result = run(engine, "SELECT * FROM big2 WHERE id > 10000", max_parallel_workers_per_gather="0")
    assert node(result, "Seq Scan")["index_suggestion"] is None


def test_correlated_columns_are_flagged_as_under_estimated(engine):
    result = run(engine, "SELECT * FROM big WHERE v = 3 AND w = 3", enable_indexscan="off", enable_bitmapscan="off",
                 max_parallel_workers_per_gather="0")
    scan = node(result, "Seq Scan")
    assert scan["actual_rows"] == 600
    assert scan["misestimate_direction"] == "under"
    assert scan["misestimate_factor"] == pytest.approx(600 / scan["plan_rows"])
    assert f"rows under-estimated {scan['misestimate_factor']:.0f}x" in scan["flags"]


def test_plain_explain_has_no_actuals_and_cost_flags(engine):
    result = explain(engine, "SELECT * FROM big2 WHERE s = 'x'", ExplainOptions(analyze=False))
    assert result.execution_ms is None
    assert result.nodes["inclusive_ms"].isna().all()
    assert result.nodes["actual_rows"].isna().all()
    assert result.nodes.loc[0, "flags"][0].startswith("costliest: ")
    assert "est " in result.text_plan and "ms self" not in result.text_plan


def test_compare_plans_names_the_node_that_changed(engine):
    before = run(engine, "SELECT * FROM big WHERE v = 3", enable_indexscan="off", enable_bitmapscan="off",
                 max_parallel_workers_per_gather="0")
    after = run(engine, "SELECT * FROM big WHERE v = 3", enable_seqscan="off", enable_bitmapscan="off")
    assert node_changes(before, after).to_dict("records") == [
        {"change": "added", "label": "Index Scan using big_v on big", "count_before": 0, "count_after": 1},
        {"change": "removed", "label": "Seq Scan on big", "count_before": 1, "count_after": 0}]
    frame = compare_plans(before, after)
    assert frame.dtypes.drop("metric").eq("float64").all()  # one type per column: Arrow shows it without a fallback
    rows = frame.set_index("metric")
    assert rows.loc["root_rows", "before"] == rows.loc["root_rows", "after"] == 600
    assert rows.loc["root_rows", "change_ratio"] == 1.0
    assert rows.loc["execution_ms", "change_ratio"] == pytest.approx(after.execution_ms / before.execution_ms)
    assert node_changes(before, before).empty


def test_nodes_a_limit_stopped_are_not_over_estimates(engine):
    result = run(engine, "SELECT * FROM big2 ORDER BY s LIMIT 20", max_parallel_workers_per_gather="0")
    sort = node(result, "Sort")
    assert sort["actual_rows"] == 20 and sort["plan_rows"] == 60000 and sort["misestimate_direction"] == "over"
    assert sort["stopped_by_limit"]
    assert not any("estimated" in flag for flag in sort["flags"]), sort["flags"]
    scan = node(result, "Seq Scan")  # the Sort read all of it: not stopped, and its estimate was right
    assert not scan["stopped_by_limit"] and scan["actual_rows"] == 60000
    index = run(engine, "SELECT * FROM big WHERE v > 0 ORDER BY id LIMIT 20")
    scan = node(index, "Index Scan", index_name="big_id")
    assert scan["stopped_by_limit"] and scan["misestimate_factor"] > 100
    assert not any("estimated" in flag for flag in scan["flags"]), scan["flags"]


def test_a_limit_that_ran_out_of_rows_keeps_the_over_estimate():
    scan = leaf("Seq Scan", 1.0, rows=3, **{"Plan Rows": 5000, "Parent Relationship": "Outer"})
    limit = leaf("Limit", 1.0, rows=3, **{"Plan Rows": 20, "Plans": [scan]})
    nodes = plan_nodes({"Plan": limit, "Execution Time": 1.0})
    assert not nodes.loc[1, "stopped_by_limit"]
    assert "rows over-estimated 1667x" in nodes.loc[1, "flags"]


def test_flagged_nodes_slowest_first():
    fast = leaf("Seq Scan", 1.0, rows=5000, **{"Parent Relationship": "Outer"})
    slow = leaf("Seq Scan", 6.0, rows=5000, **{"Parent Relationship": "Inner"})
    nodes = plan_nodes({"Plan": leaf("Nested Loop", 8.0, Plans=[fast, slow]), "Execution Time": 8.0})
    assert nodes["flags"].map(bool).all()
    assert list(flagged_nodes(nodes)["node_id"]) == [2, 0, 1]


def test_own_time_never_exceeds_total_time():
    """A one-node plan: the executor's time outside the node is the root's, and so is its total."""
    nodes = plan_nodes({"Plan": leaf("Seq Scan", 0.012), "Execution Time": 0.013})
    assert nodes.loc[0, "exclusive_ms"] == pytest.approx(0.013) == nodes.loc[0, "inclusive_ms"]


def test_own_time_never_exceeds_total_time_in_real_plans(engine):
    for sql in ("SELECT * FROM small", "SELECT count(*) FROM big JOIN big2 USING (id)", "SELECT * FROM big2 ORDER BY s LIMIT 5"):
        nodes = run(engine, sql).nodes
        assert (nodes["exclusive_ms"] <= nodes["inclusive_ms"] + 1e-9).all(), nodes[["label", "exclusive_ms", "inclusive_ms"]]


# ---- hand-made JSON: rules that do not need a server -------------------------------------------------

def leaf(node_type, total, loops=1, rows=10, **extra):
    return {"Node Type": node_type, "Plan Rows": 10, "Total Cost": 1.0, "Actual Total Time": total,
            "Actual Rows": rows, "Actual Loops": loops, **extra}


def test_initplan_read_by_a_descendant_is_charged_to_that_descendant():
    """PostgreSQL < 17 names the value $0; the Seq Scan's filter ran the InitPlan inside its own time."""
    scan = leaf("Seq Scan", 8.0, **{"Parent Relationship": "Outer", "Filter": "(id > $0)", "Relation Name": "t"})
    init = leaf("Result", 5.0, **{"Parent Relationship": "InitPlan", "Subplan Name": "InitPlan 1 (returns $0)"})
    root = leaf("Aggregate", 9.0, rows=1, Plans=[init, scan])
    nodes = plan_nodes([{"Plan": root, "Execution Time": 9.0, "Planning Time": 0.1}])
    assert list(nodes["exclusive_ms"]) == pytest.approx([1.0, 5.0, 3.0])
    assert nodes["percent_of_total"].sum() == pytest.approx(100.0)


def test_initplan_named_the_postgresql_17_way():
    scan = leaf("Seq Scan", 8.0, **{"Parent Relationship": "Outer", "Filter": "(id > (InitPlan 1).col1)"})
    init = leaf("Result", 5.0, **{"Parent Relationship": "InitPlan", "Subplan Name": "InitPlan 1"})
    nodes = plan_nodes({"Plan": leaf("Limit", 9.0, Plans=[init, scan])})
    assert list(nodes["exclusive_ms"]) == pytest.approx([1.0, 5.0, 3.0])


def test_subplan_is_subtracted_from_the_node_that_evaluates_it():
    sub = leaf("Index Scan", 0.01, loops=100, **{"Parent Relationship": "SubPlan", "Subplan Name": "SubPlan 1"})
    nodes = plan_nodes({"Plan": leaf("Seq Scan", 3.0, Plans=[sub]), "Execution Time": 3.0})
    assert list(nodes["inclusive_ms"]) == pytest.approx([3.0, 1.0])
    assert list(nodes["exclusive_ms"]) == pytest.approx([2.0, 1.0])


def test_zero_rows_and_never_executed_nodes():
    never = leaf("Index Scan", 0.0, loops=0, rows=0, **{"Parent Relationship": "Inner"})
    empty = leaf("Seq Scan", 1.0, rows=0, **{"Parent Relationship": "Outer", "Plan Rows": 5000})
    nodes = plan_nodes({"Plan": leaf("Nested Loop", 1.0, rows=0, Plans=[empty, never])})
    assert nodes.loc[1, "misestimate_factor"] == 5000 and nodes.loc[1, "misestimate_direction"] == "over"
    assert "rows over-estimated 5000x" in nodes.loc[1, "flags"]
    assert pd.isna(nodes.loc[2, "misestimate_factor"]) and nodes.loc[2, "inclusive_ms"] == 0
    assert nodes.loc[0, "exclusive_ms"] == 0


def test_io_time_names_of_postgresql_17():
    old = plan_nodes({"Plan": leaf("Seq Scan", 1.0, **{"I/O Read Time": 2.5, "I/O Write Time": 0.5})})
    new = plan_nodes({"Plan": leaf("Seq Scan", 1.0, **{"Shared I/O Read Time": 2.0, "Local I/O Read Time": 0.5,
                                                        "Shared I/O Write Time": 0.5, "Local I/O Write Time": 0.0})})
    assert old.loc[0, ["io_read_ms", "io_write_ms"]].tolist() == new.loc[0, ["io_read_ms", "io_write_ms"]].tolist() == [2.5, 0.5]


def test_index_only_scan_heap_fetches_and_summary():
    scan = leaf("Index Only Scan", 1.0, loops=2, **{"Heap Fetches": 30, "Index Name": "ix", "Relation Name": "t"})
    plan = [{"Plan": scan, "Planning Time": 0.25, "Execution Time": 1.5}]
    nodes = plan_nodes(plan)
    assert nodes.loc[0, "heap_fetches"] == 60
    assert "index-only scan fetched 60 rows from the heap: VACUUM the table" in nodes.loc[0, "flags"]
    summary = plan_summary(plan)
    assert (summary.planning_ms, summary.execution_ms, summary.total_ms) == (0.25, 1.5, 1.75)
    assert (summary.root_rows, summary.node_count, summary.flagged_node_count) == (20, 1, 1)
    assert plan_text(plan).startswith("Index Only Scan using ix on t  [")


def test_thresholds_are_keyword_arguments():
    scan = leaf("Seq Scan", 1.0, rows=50, **{"Plan Rows": 10, "Rows Removed by Filter": 50})
    assert plan_nodes({"Plan": scan}).loc[0, "flags"] == ["slowest: 100% of time"]
    loose = plan_nodes({"Plan": scan}, misestimate_factor=4, filter_removed_percent=40)
    assert loose.loc[0, "flags"][1:] == ["rows under-estimated 5x", "filter removed 50% of rows read"]


def test_filter_predicates_read_the_expression_with_postgresqls_parser():
    assert filter_predicates("((t.a = 5) AND (\"Odd Col\" > 'x'::text) AND (body ~~* '%pg%'::text))") == [
        Predicate(None, "a", EQUALITY), Predicate(None, "Odd Col", RANGE), Predicate(None, "body", WILDCARD)]
    assert filter_predicates("((v)::numeric > (InitPlan 1).col1)") == []
    assert filter_predicates(None) == []
