"""queries.explain: pasted SQL is explained, never allowed to change data, and refused in plain words."""
import re
import uuid

import psycopg
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from queries.connection import make_engine
from queries.errors import PgPulseError
from queries.explain import ExplainFailed, ExplainOptions, ExplainRefused, check_statement, explain
from tests.conftest import create_database

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

SETUP = """
CREATE TABLE t (id int PRIMARY KEY, v int NOT NULL);
INSERT INTO t SELECT g, g * 3 FROM generate_series(1, 200) g;
CREATE SEQUENCE s;
SELECT setval('s', 42);
CREATE FUNCTION sneaky_write() RETURNS int LANGUAGE sql AS 'INSERT INTO t VALUES (1000, 0) RETURNING 1';
CREATE FUNCTION sneaky_lock() RETURNS void LANGUAGE sql AS 'SELECT pg_advisory_lock(4242)';
ANALYZE t;
"""
STATE = "SELECT md5(string_agg(id || ':' || v, ',' ORDER BY id)), (SELECT last_value FROM s), count(*) FROM t"
DANGEROUS = [
    ("DELETE FROM t", None),
    ("UPDATE t SET v = 0", None),
    ("DROP TABLE t", "DROP TABLE is not allowed"),
    ("TRUNCATE t", "TRUNCATE is not allowed"),
    ("SELECT 1; DROP TABLE t", r"2 statements found \(SELECT, DROP TABLE\); paste exactly one"),
    ("COMMIT; DELETE FROM t", r"2 statements found \(COMMIT, DELETE\)"),
    ("WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", None),
    ("SELECT nextval('s')", r"calling nextval\(\) is not allowed"),
    ("INSERT INTO t VALUES (500, 1)", None),
    ("SELECT sneaky_write()", None),
    ("MERGE INTO t USING (SELECT 1 AS id) src ON t.id = src.id WHEN MATCHED THEN DELETE", None),
]


def make_db(admin_url):
    name = f"expl_{uuid.uuid4().hex[:8]}"
    url = create_database(admin_url, name, extension=False)
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute(SETUP)
    return name, url


def drop_db(admin_url, name):
    with psycopg.connect(admin_url, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(scope="module")
def db(pg_admin_url):
    """One database per server with table t and sequence s: every test leaves them as they were."""
    name, url = make_db(pg_admin_url)
    yield url
    drop_db(pg_admin_url, name)


@pytest.fixture(scope="module")
def engine(db):
    engine = make_engine(db)
    yield engine
    engine.dispose()


def state(url):
    with psycopg.connect(url) as conn:
        return conn.execute(STATE).fetchone()


@pytest.mark.parametrize("analyze_writes", [False, True], ids=["writes_off", "writes_on"])
@pytest.mark.parametrize("sql,refusal", DANGEROUS, ids=[sql for sql, _ in DANGEROUS])
def test_nothing_is_ever_lost(db, engine, sql, refusal, analyze_writes):
    before = state(db)
    assert before[2] == 200 and before[1] == 42
    try:
        explain(engine, sql, ExplainOptions(analyze_writes=analyze_writes))
    except PgPulseError as exc:
        if refusal:
            assert isinstance(exc, ExplainRefused) and exc.kind == "refused"
            assert re.search(refusal, str(exc)), str(exc)  # the message names what was found
    else:
        assert refusal is None and analyze_writes, f"{sql} ran with analyze_writes={analyze_writes}"
    assert state(db) == before


def test_writes_are_refused_for_analyze_unless_configured(engine):
    with pytest.raises(ExplainRefused, match=r"DELETE modifies data: EXPLAIN ANALYZE of writes is allowed only when "
                                             r"the configuration allows it .*plain EXPLAIN"):
        explain(engine, "DELETE FROM t WHERE id = 1")
    with pytest.raises(ExplainRefused, match="SELECT with a data-modifying WITH or FOR UPDATE modifies data"):
        explain(engine, "SELECT * FROM t WHERE id = 1 FOR UPDATE")


def test_analyzed_write_runs_and_is_rolled_back(db, engine):
    before = state(db)
    result = explain(engine, "UPDATE t SET v = 0 WHERE id <= 10", ExplainOptions(analyze_writes=True))
    assert result.statement_kind == "UPDATE"
    assert result.nodes.loc[0, "node_type"] == "Update"
    assert result.nodes.loc[0, "relation"] == "t"
    assert result.nodes["actual_rows_total"].iloc[-1] == 10
    assert state(db) == before


def test_plain_explain_of_a_write_shows_its_plan_without_running_it(db, engine):
    before = state(db)
    result = explain(engine, "DELETE FROM t WHERE v > 30", ExplainOptions(analyze=False))
    assert result.nodes.loc[0, "node_type"] == "Delete"
    assert result.execution_ms is None
    assert state(db) == before


def test_function_that_writes_fails_in_the_read_only_transaction(db, engine):
    with pytest.raises(ExplainFailed) as caught:
        explain(engine, "SELECT sneaky_write()")
    assert caught.value.sqlstate == "25006"
    assert "read-only transaction" in str(caught.value)
    assert "SQLSTATE 25006" in str(caught.value)


def test_session_state_left_by_a_function_dies_with_the_connection(db, engine):
    explain(engine, "SELECT sneaky_lock()")
    with psycopg.connect(db) as conn:
        held = conn.execute("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = 4242").fetchone()[0]
    assert held == 0


@pytest.mark.parametrize("sql,kind", [
    ("SELECT 1", "SELECT"), ("VALUES (1), (2)", "VALUES"), ("TABLE t", "SELECT"), ("INSERT INTO t VALUES (1, 1)", "INSERT"),
    ("WITH x AS (UPDATE t SET v = 1 RETURNING *) SELECT * FROM x", "SELECT"),
])
def test_check_statement_kinds(sql, kind):
    check = check_statement(sql)
    assert check.statement_kind == kind
    assert check.is_write == (kind == "INSERT" or "UPDATE" in sql)


@pytest.mark.parametrize("sql,message", [
    ("", r"0 statements found; paste exactly one"),
    ("BEGIN", "BEGIN is not allowed"), ("SET work_mem = '1GB'", "SET is not allowed"),
    ("COPY t TO STDOUT", "COPY is not allowed"), ("CREATE TABLE x (a int)", "CREATE TABLE is not allowed"),
    ("ALTER TABLE t ADD COLUMN w int", "ALTER TABLE is not allowed"), ("VACUUM t", "VACUUM is not allowed"),
    ("DO $$ BEGIN END $$", "DO is not allowed"), ("CALL p()", "CALL is not allowed"),
    ("EXPLAIN SELECT 1", "EXPLAIN is not allowed"), ("SELECT * INTO t2 FROM t", "SELECT INTO is not allowed"),
    ("LOCK t", "LOCK is not allowed"), ("SELECT pg_catalog.setval('s', 1)", r"setval\(\)"),
    ("SELECT pg_advisory_lock(1)", r"pg_advisory_lock\(\)"), ("SELECT * FROM dblink('x', 'y') AS r(a int)", "dblink"),
    ("SELECT pg_terminate_backend(1)", "pg_terminate_backend"), ("SELECT 1 FROM t WHERE", "syntax error at end of input"),
    ("SELECT 1\x00; DROP TABLE t", "NUL character"),
])
def test_check_statement_refusals(sql, message):
    with pytest.raises(ExplainRefused, match=message):
        check_statement(sql)


def test_parameters_counted_by_the_highest_number():
    check = check_statement("SELECT * FROM t WHERE id = $3 AND v > $1")
    assert (check.has_parameters, check.parameter_count) == (True, 3)


def test_bound_values_reach_the_plan(engine):
    result = explain(engine, "SELECT * FROM t WHERE id <= $1", params=["7"],
                     options=ExplainOptions(planner_settings={"enable_indexscan": "off", "enable_bitmapscan": "off"}))
    assert result.nodes.loc[0, "actual_rows"] == 7
    with pytest.raises(ExplainFailed, match=r'invalid input syntax for type integer: "x\'; DROP TABLE t; --"'):
        explain(engine, "SELECT * FROM t WHERE id = $1", params=["x'; DROP TABLE t; --"])
    with pytest.raises(ExplainRefused, match=r"has 1 parameter\(s\) \(\$1..\$1\) but 2 value\(s\) were given"):
        explain(engine, "SELECT * FROM t WHERE id = $1", params=["1", "2"])


def test_parameters_without_values_get_a_generic_plan(engine):
    with pytest.raises(ExplainRefused, match=r"ANALYZE runs the statement: give a value for each of \$1..\$2"):
        explain(engine, "SELECT * FROM t WHERE id = $1 AND v = $2")
    result = explain(engine, "SELECT * FROM t WHERE id = $1 AND v = $2", ExplainOptions(analyze=False))
    assert result.options.generic_plan
    conditions = f"{result.nodes.loc[0, 'index_cond']} {result.nodes.loc[0, 'filter']}"
    assert "$1" in conditions and "$2" in conditions


def test_timeout_is_reported_in_plain_words(engine):
    with pytest.raises(ExplainFailed, match="ran longer than the EXPLAIN timeout") as caught:
        explain(engine, "SELECT pg_sleep(5)", ExplainOptions(timeout_ms=200))
    assert caught.value.sqlstate == "57014"


def test_server_error_points_into_the_pasted_text(engine):
    with pytest.raises(ExplainFailed, match=r'column "nope" does not exist \(at character 8 of the statement\)'):
        explain(engine, "SELECT nope FROM t")


def test_option_refusals(engine, pg_version):
    with pytest.raises(ExplainRefused, match="planner setting 'search_path' is not allowed"):
        explain(engine, "SELECT 1", ExplainOptions(planner_settings={"search_path": "evil"}))
    with pytest.raises(ExplainRefused, match="WAL reports what execution did: it needs ANALYZE"):
        explain(engine, "SELECT 1", ExplainOptions(analyze=False, wal=True))
    with pytest.raises(ExplainRefused, match="timeout_ms must be a positive"):
        explain(engine, "SELECT 1", ExplainOptions(timeout_ms=0))
    if pg_version < 170000:
        with pytest.raises(ExplainRefused, match="SERIALIZE needs PostgreSQL 17 or newer"):
            explain(engine, "SELECT 1", ExplainOptions(serialize=True))
    else:
        assert "Serialization" in explain(engine, "SELECT * FROM t", ExplainOptions(serialize=True)).plan_json[0]


def test_result_fields(engine, pg_version):
    result = explain(engine, "SELECT count(*) FROM t", ExplainOptions(settings=True, wal=True, verbose=True))
    assert result.server_version_num == pg_version
    assert result.statement_kind == "SELECT"
    assert result.planning_ms > 0 and result.execution_ms > 0
    assert result.total_ms == pytest.approx(result.planning_ms + result.execution_ms)
    assert result.nodes.loc[0, "actual_rows"] == 1
    assert result.summary.root_rows == 1 and result.summary.node_count == len(result.nodes)
    assert result.text_plan.splitlines()[0].startswith("Aggregate  [")


STATEMENTS = ["SELECT 1", "SELECT * FROM t", "TABLE t", "VALUES (1)", "DELETE FROM t", "UPDATE t SET v = 0",
              "INSERT INTO t VALUES (9999, 1)", "DROP TABLE t", "TRUNCATE t", "COMMIT", "BEGIN", "ROLLBACK",
              "SET transaction_read_only = off", "SELECT nextval('s')", "SELECT setval('s', 1)", "ALTER TABLE t DROP COLUMN v",
              "WITH d AS (DELETE FROM t RETURNING *) SELECT * FROM d", "SELECT sneaky_write()", "VACUUM t",
              "SELECT 'a\\'; DROP TABLE t; --'", "SELECT '\\' , ' ; COMMIT; DROP TABLE t ; --'", "CREATE TABLE t3 ()"]


@pytest.fixture(scope="module")
def fuzz_db(pg_admin_url):
    name, url = make_db(pg_admin_url)
    engine = make_engine(url)
    yield url, engine
    engine.dispose()
    drop_db(pg_admin_url, name)


@settings(max_examples=200, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(sql=st.one_of(st.text(max_size=80), st.lists(st.sampled_from(STATEMENTS), min_size=1, max_size=4).map("; ".join)),
       analyze_writes=st.booleans(), analyze=st.booleans())
def test_fuzz_only_pgpulse_errors_and_no_change(fuzz_db, sql, analyze_writes, analyze):
    url, engine = fuzz_db
    before = state(url)
    try:
        explain(engine, sql, ExplainOptions(analyze=analyze, analyze_writes=analyze_writes, timeout_ms=2000))
    except PgPulseError:
        pass
    assert state(url) == before


def test_own_explain_statements_are_marked_and_hidden_on_the_queries_page(fresh_db):
    from queries.statements import statements

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE mark_probe AS SELECT g AS id FROM generate_series(1, 100) g")
    engine = make_engine(fresh_db)
    try:
        explain(engine, "SELECT count(*) FROM mark_probe WHERE id < $1", ExplainOptions(analyze=False))  # PREPARE + EXECUTE
        explain(engine, "SELECT count(*) FROM mark_probe WHERE id < $1", params=["5"])
        own = statements(engine, include_own=True, include_nested=True, text="mark_probe")["query"]
        shown = statements(engine, include_nested=True, text="mark_probe")["query"]
    finally:
        engine.dispose()
    assert any(query.startswith("PREPARE /* pgpulse */ pgpulse_explain AS SELECT count(*)") for query in own), list(own)
    assert any(query.startswith("EXPLAIN /* pgpulse */ (FORMAT JSON") for query in own), list(own)
    assert set(shown) == {query for query in own if "/* pgpulse */" not in query}
    assert not any("EXPLAIN" in query or "pgpulse_explain" in query for query in shown), list(shown)


def test_a_password_in_a_pasted_filter_is_masked_in_the_nodes(engine):
    result = explain(engine, "SELECT * FROM t WHERE v::text = 'postgresql://app:s3cret-pw@db.internal/prod'")
    filters = " ".join(result.nodes["filter"].dropna())
    assert "postgresql://" in filters and "s3cret-pw" not in filters and "s3cret-pw" not in result.text_plan


def test_with_hypopg_an_explained_scans_index_is_verified_against_the_planner(fresh_db, pg_version):
    """The Indexes page's rule on the Explain page: a B-tree suggestion is kept when HypoPG's hypothetical index halves
    the statement's (generic-plan) cost, and says so; one that would not is named as checked and dropped."""
    if pg_version // 10000 != 15:
        pytest.skip("HypoPG is installed for PostgreSQL 15 (Debian's postgresql-15-hypopg)")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION hypopg")
        conn.execute("CREATE TABLE big AS SELECT g AS id, g % 500 AS v, g % 100 AS w, repeat('x', 200) AS pad"
                     " FROM generate_series(1, 20000) g")
        conn.execute("ANALYZE big")
    engine = make_engine(fresh_db)
    options = ExplainOptions(planner_settings={"max_parallel_workers_per_gather": "0"})
    try:
        scan = explain(engine, "SELECT * FROM big WHERE v = 42", options).nodes.iloc[0]
        assert scan["node_type"] == "Seq Scan" and scan["index_suggestion"] == "CREATE INDEX ON big (v)"
        assert scan["index_advice"] == "equality on v; verified with HypoPG: generic-plan cost 857 -> 131 over 1 statement"
        # w < 9 keeps 9 % of the rows, on every page: a bitmap scan of them costs more than half the full scan
        scan = explain(engine, "SELECT * FROM big WHERE w < 9", options).nodes.iloc[0]
        assert scan["index_columns"] == ["w"] and scan["index_suggestion"] is None
        assert scan["index_advice"] == "checked with HypoPG: an index on (w) would not halve this statement's generic-plan cost"
        with engine.connect() as conn:  # the hypothetical indexes died with the connection that planned the pasted text
            assert conn.exec_driver_sql("SELECT count(*) FROM hypopg_list_indexes").scalar_one() == 0
    finally:
        engine.dispose()
