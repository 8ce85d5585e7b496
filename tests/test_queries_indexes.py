"""queries.indexes against real servers: each condition is created for real and the exact flagged rows come back."""
import threading
import time
import uuid

import pandas as pd
import psycopg
import pytest

from queries.connection import make_engine
from queries.indexes import (
    duplicate_indexes,
    index_hit_rates,
    index_hit_ratio,
    invalid_indexes,
    seq_scan_tables,
    unused_indexes,
)
from tests.conftest import flush_statistics, poll, with_database

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

UNUSED_REASON = ("never scanned since the statistics were reset; it is not unique and backs no constraint, "
                 "so it only costs writes, vacuum time and disk")
EVIL = 'x"; DROP TABLE y; --'
EVIL_QUOTED = '"x""; DROP TABLE y; --"'  # written by hand: the test must not trust the quoting it checks


def run(url, *statements):
    """Run statements in autocommit; return the rows of the last one (None when it returns none)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in statements:
            cursor = conn.execute(statement)
        return cursor.fetchall() if cursor.description else None


def scan(url, *statements, times=1):
    """Run statements in one session, then make it publish its statistics now (PostgreSQL 15+)."""
    with psycopg.connect(url, autocommit=True) as conn:
        for _ in range(times):
            for statement in statements:
                conn.execute(statement)
        flush_statistics(conn)
        conn.execute("SELECT 1")


def rows(frame, *columns):
    return sorted(tuple(row) for row in frame[list(columns)].itertuples(index=False))


def test_unused_index_flagged_but_not_unique_or_primary_key(fresh_db, pg_version):
    run(fresh_db,
        "CREATE TABLE accounts (id int PRIMARY KEY, email text, team int, code int, region int)",
        "CREATE INDEX accounts_team ON accounts (team)",
        "CREATE UNIQUE INDEX accounts_email ON accounts (email)",
        "ALTER TABLE accounts ADD CONSTRAINT accounts_code_key UNIQUE (code)",
        "CREATE INDEX accounts_region ON accounts (region)")
    scan(fresh_db, "SET enable_seqscan = off", "SELECT * FROM accounts WHERE region = 2", times=2)
    engine = make_engine(fresh_db)
    frame = poll(lambda: unused_indexes(engine), lambda f: "accounts_region" not in set(f["index_name"]))
    assert list(frame.columns) == ["schema_name", "table_name", "index_name", "index_scans", "size_bytes",
                                   "stats_reset_seconds", "reason", "fix_sql"]
    assert rows(frame, "schema_name", "table_name", "index_name", "index_scans", "reason", "fix_sql") == [
        ("public", "accounts", "accounts_team", 0, UNUSED_REASON, "DROP INDEX CONCURRENTLY public.accounts_team;")]
    assert frame.iloc[0]["size_bytes"] == 8192
    if pg_version >= 150000:
        assert pd.isna(frame.iloc[0]["stats_reset_seconds"])  # this database's statistics were never reset
    else:  # before 15 a database's statistics start with a reset time: when its first statistics arrived
        assert 0 < frame.iloc[0]["stats_reset_seconds"] < 60
    scanned = unused_indexes(engine, max_scans=2)
    assert set(scanned["index_name"]) == {"accounts_team", "accounts_region"}
    assert scanned.set_index("index_name").loc["accounts_region", "reason"].startswith(
        "scanned only 2 time(s) since the statistics were reset;")


def test_stats_reset_age_is_reported(fresh_db):
    run(fresh_db, "CREATE TABLE t (a int)", "CREATE INDEX t_a ON t (a)", "SELECT pg_stat_reset()")
    time.sleep(0.2)
    frame = poll(lambda: unused_indexes(make_engine(fresh_db)), lambda f: f["stats_reset_seconds"].notna().all())
    assert list(frame["index_name"]) == ["t_a"]
    assert 0.2 <= frame.iloc[0]["stats_reset_seconds"] < 60


def test_exclusion_constraint_and_partition_indexes_are_never_unused(fresh_db):
    run(fresh_db,
        "CREATE EXTENSION IF NOT EXISTS btree_gist",
        "CREATE TABLE rooms (id int, during tstzrange, label text, EXCLUDE USING gist (id WITH =, during WITH &&))",
        "CREATE INDEX rooms_label ON rooms (label)",
        "CREATE TABLE parts (id int PRIMARY KEY) PARTITION BY RANGE (id)",
        "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100)",
        "CREATE INDEX parts_any ON parts (id DESC)")
    frame = unused_indexes(make_engine(fresh_db))
    # the gist index behind EXCLUDE is not unique, yet dropping it would drop the constraint;
    # partition copies of a partitioned index cannot be dropped alone; the parent has no scan counter
    assert list(frame["index_name"]) == ["rooms_label"]


def test_a_detached_partitions_index_can_be_dropped_again(fresh_db):
    run(fresh_db,
        "CREATE TABLE parts (id int) PARTITION BY RANGE (id)",
        "CREATE TABLE parts_1 PARTITION OF parts FOR VALUES FROM (0) TO (100)",
        "CREATE TABLE parts_2 PARTITION OF parts FOR VALUES FROM (100) TO (200)",
        "CREATE INDEX parts_id ON parts (id)",
        "ALTER TABLE parts DETACH PARTITION parts_2")
    # parts_1's copy still belongs to parts_id; parts_2's is a plain index of a plain table now
    assert rows(unused_indexes(make_engine(fresh_db)), "table_name", "index_name", "fix_sql") == [
        ("parts_2", "parts_2_id_idx", "DROP INDEX CONCURRENTLY public.parts_2_id_idx;")]


def temp_schema_session(url, *statements):
    """A session holding a temp table (other sessions see it in pg_temp_N); returns (connection, schema name)."""
    session = psycopg.connect(url, autocommit=True)
    for statement in statements:
        session.execute(statement)
    (schema,), = session.execute("SELECT nspname FROM pg_namespace WHERE oid = pg_my_temp_schema()").fetchall()
    return session, schema


def test_user_schemas_are_those_of_pg_stat_user_indexes(fresh_db):
    # information_schema is left out like pg_catalog; temp schemas and materialized views are user objects
    run(fresh_db,
        "CREATE TABLE kept (a int)", "CREATE INDEX kept_a ON kept (a)",
        "CREATE TABLE information_schema.hidden (a int)", "CREATE INDEX hidden_a ON information_schema.hidden (a)",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS a", "CREATE INDEX mv_a ON mv (a)")
    session, temp = temp_schema_session(fresh_db, "CREATE TEMP TABLE tt (a int)", "CREATE INDEX tt_a ON tt (a)")
    try:
        engine = make_engine(fresh_db)
        expected = sorted([("public", "kept", "kept_a"), ("public", "mv", "mv_a"), (temp, "tt", "tt_a")])
        assert rows(unused_indexes(engine), "schema_name", "table_name", "index_name") == expected
        assert rows(index_hit_rates(engine), "schema_name", "table_name", "index_name") == expected
    finally:
        session.close()


@pytest.fixture
def icu_db(pg_admin_url):
    """A database whose default collation is ICU's root locale, where 'ax' sorts before 'Bx' (in C, 'Bx' first)."""
    name = f"icu_{uuid.uuid4().hex[:8]}"
    try:
        run(pg_admin_url, f"CREATE DATABASE {name} LOCALE_PROVIDER icu ICU_LOCALE 'und' TEMPLATE template0")
    except psycopg.Error as exc:
        pytest.skip(f"this server has no ICU: {exc}")
    yield with_database(pg_admin_url, name)
    run(pg_admin_url, f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")


def test_unused_indexes_sort_names_in_c_order_whatever_the_database_collation(icu_db):
    run(icu_db, 'CREATE TABLE "Bx" (a int)', 'CREATE INDEX "Bx_a" ON "Bx" (a)',
        "CREATE TABLE ax (a int)", "CREATE INDEX ax_a ON ax (a)")
    assert run(icu_db, "SELECT 'ax' < 'Bx'") == [(True,)]  # the database's own order
    # catalog names (type name) compare in C order, as pg_stat_user_indexes' columns do
    assert list(unused_indexes(make_engine(icu_db))["table_name"]) == ["Bx", "ax"]


def test_fix_sql_quotes_a_hostile_name_and_drops_only_that_index(fresh_db):
    run(fresh_db, "CREATE TABLE y (id int)", f"CREATE TABLE {EVIL_QUOTED} (a int)",
        f'CREATE INDEX "x""; DROP TABLE y; --_a" ON {EVIL_QUOTED} (a)')
    frame = unused_indexes(make_engine(fresh_db))
    assert list(frame["table_name"]) == [EVIL]
    fix = frame.iloc[0]["fix_sql"]
    assert fix == 'DROP INDEX CONCURRENTLY public."x""; DROP TABLE y; --_a";'
    run(fresh_db, fix)
    assert run(fresh_db, "SELECT count(*) FROM pg_class WHERE relname IN ('y', 'x\"; DROP TABLE y; --')") == [(2,)]
    assert unused_indexes(make_engine(fresh_db)).empty


DUPLICATE_SETUP = [
    "CREATE TABLE prefix (a int, b int)",
    "CREATE INDEX idx_a ON prefix (a)",
    "CREATE INDEX idx_ab ON prefix (a, b)",
    "CREATE TABLE twins (a int, b int)",
    "CREATE INDEX twin_1 ON twins (a)",
    "CREATE INDEX twin_2 ON twins (a)",
    # same predicate written at other character offsets: the stored node trees differ before PostgreSQL 17
    "CREATE TABLE partial (a int, b int)",
    "CREATE INDEX partial_a ON partial (a) WHERE b > 0",
    "CREATE INDEX partial_ab ON partial (a, b)",
    "CREATE INDEX    partial_a_again ON partial   (a)     WHERE   b > 0",
    "CREATE TABLE expr (a text, b int)",
    "CREATE INDEX expr_lower ON expr (lower(a))",
    "CREATE INDEX expr_a ON expr (a)",
    "CREATE TABLE uniq (id int PRIMARY KEY, a int, b int)",
    "CREATE UNIQUE INDEX uniq_a ON uniq (a)",
    "CREATE INDEX uniq_a_plain ON uniq (a)",
    "CREATE INDEX uniq_id ON uniq (id)",
    "CREATE INDEX uniq_ab ON uniq (a, b)",
    "CREATE TABLE incl (a int, b int, c int)",
    "CREATE INDEX incl_a_c ON incl (a) INCLUDE (c)",
    "CREATE INDEX incl_ab ON incl (a, b)",
    "CREATE INDEX incl_a_desc ON incl (a DESC)",
    "CREATE INDEX incl_a_hash ON incl USING hash (a)",
    # on a partitioned table the parent index is flagged (plain DROP INDEX), its partitions' copies never
    "CREATE TABLE parted (a int, b int) PARTITION BY RANGE (a)",
    "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (100)",
    "CREATE INDEX parted_a ON parted (a)",
    "CREATE INDEX parted_ab ON parted (a, b)",
]


def test_duplicate_indexes_exact_rows(fresh_db):
    run(fresh_db, *DUPLICATE_SETUP)
    frame = duplicate_indexes(make_engine(fresh_db))
    assert list(frame.columns) == ["schema_name", "table_name", "index_name", "covering_index_name", "index_definition",
                                   "covering_definition", "size_bytes", "reason", "fix_sql"]
    prefix = "its key columns are the leading key columns of {}, which can serve the same queries"
    same = "same key columns, operator classes, expressions and predicate as {}"
    assert rows(frame, "table_name", "index_name", "covering_index_name", "reason") == [
        ("parted", "parted_a", "parted_ab", prefix.format("parted_ab")),
        ("partial", "partial_a_again", "partial_a", same.format("partial_a")),
        ("prefix", "idx_a", "idx_ab", prefix.format("idx_ab")),
        ("twins", "twin_2", "twin_1", same.format("twin_1")),
        # the unique index is kept and never flagged as covered by the plain ones
        ("uniq", "uniq_a_plain", "uniq_a", same.format("the unique index uniq_a")),
        ("uniq", "uniq_id", "uniq_pkey", same.format("the unique index uniq_pkey")),
    ]
    idx_a = frame.set_index("index_name").loc["idx_a"]
    assert idx_a["index_definition"] == "CREATE INDEX idx_a ON public.prefix USING btree (a)"
    assert idx_a["covering_definition"] == "CREATE INDEX idx_ab ON public.prefix USING btree (a, b)"
    assert idx_a["fix_sql"] == "DROP INDEX CONCURRENTLY public.idx_a;"
    assert idx_a["size_bytes"] == 8192
    assert frame.set_index("index_name").loc["parted_a", "fix_sql"] == "DROP INDEX public.parted_a;"
    run(fresh_db, *frame["fix_sql"])  # the fixes run as shown and leave nothing redundant behind
    assert duplicate_indexes(make_engine(fresh_db)).empty
    kept = run(fresh_db, "SELECT relname FROM pg_class WHERE relname IN ('idx_ab', 'twin_1', 'partial_a', 'uniq_a', 'parted_ab')")
    assert len(kept) == 5


def test_expression_indexes_are_compared_by_their_expressions(fresh_db):
    # every expression index has key column 0: they are grouped together, then told apart by expression
    run(fresh_db,
        "CREATE TABLE e (a text, b text)",
        "CREATE INDEX e_lower ON e (lower(a))",
        "CREATE INDEX e_upper ON e (upper(a))",
        "CREATE INDEX e_lower_b ON e (lower(a), b)",
        "CREATE INDEX e_lower_again ON e (lower(a))",
        "CREATE INDEX e_lower_b_partial ON e (lower(b)) WHERE a IS NOT NULL")
    frame = duplicate_indexes(make_engine(fresh_db))
    assert rows(frame, "index_name", "covering_index_name") == [("e_lower", "e_lower_b"), ("e_lower_again", "e_lower_b")]


def test_unique_indexes_twins_keep_the_constraint(fresh_db):
    run(fresh_db,
        "CREATE TABLE u (a int CONSTRAINT u_a_key UNIQUE, b int)",
        "CREATE UNIQUE INDEX u_a_copy ON u (a)",
        "CREATE UNIQUE INDEX u_b_1 ON u (b)",
        "CREATE UNIQUE INDEX u_b_2 ON u (b)",
        "CREATE UNIQUE INDEX u_ab ON u (a, b)")
    frame = duplicate_indexes(make_engine(fresh_db))
    # u_a_key is older but backs a constraint, so the copy goes; (a) unique is never "covered" by (a, b) unique
    assert rows(frame, "index_name", "covering_index_name") == [("u_a_copy", "u_a_key"), ("u_b_2", "u_b_1")]


def test_nulls_not_distinct_index_covers_the_plain_unique_one(fresh_db, pg_version):
    if pg_version < 150000:
        pytest.skip("NULLS NOT DISTINCT is PostgreSQL 15+")
    run(fresh_db,
        "CREATE TABLE n (a int)",
        "CREATE UNIQUE INDEX n_plain ON n (a)",
        "CREATE UNIQUE INDEX n_strict ON n (a) NULLS NOT DISTINCT")
    frame = duplicate_indexes(make_engine(fresh_db))
    # NULLS NOT DISTINCT enforces everything the plain index does, and more: the plain one goes
    assert rows(frame, "index_name", "covering_index_name", "reason") == [
        ("n_plain", "n_strict", "same key columns, operator classes, expressions and predicate as the unique index n_strict")]


def test_invalid_index_from_failed_concurrent_build(fresh_db):
    run(fresh_db, "CREATE TABLE dup (a int)", "INSERT INTO dup VALUES (1), (1), (2)")
    with pytest.raises(psycopg.errors.UniqueViolation):
        run(fresh_db, "CREATE UNIQUE INDEX CONCURRENTLY dup_a ON dup (a)")
    engine = make_engine(fresh_db)
    frame = invalid_indexes(engine)
    assert list(frame.columns) == ["schema_name", "table_name", "index_name", "size_bytes", "reason", "fix_sql"]
    assert rows(frame, "schema_name", "table_name", "index_name", "reason", "fix_sql") == [(
        "public", "dup", "dup_a",
        "a CREATE UNIQUE INDEX CONCURRENTLY or REINDEX CONCURRENTLY failed, most often on duplicate values: "
        "queries never use it but writes still update it; remove the duplicates, then rebuild it",
        "REINDEX INDEX CONCURRENTLY public.dup_a;")]
    assert frame.iloc[0]["size_bytes"] >= 0
    # an invalid index is reported once, here, not again as unused or duplicate
    assert unused_indexes(engine).empty and duplicate_indexes(engine).empty


def test_invalid_copy_left_by_cancelled_reindex_concurrently_is_dropped(fresh_db):
    run(fresh_db, "CREATE TABLE dup (a int)", "CREATE INDEX dup_a ON dup (a)")
    writer = psycopg.connect(fresh_db)
    try:
        writer.execute("INSERT INTO dup VALUES (1)")  # REINDEX CONCURRENTLY waits for this writer, then times out
        with pytest.raises(psycopg.errors.QueryCanceled):
            run(fresh_db, "SET statement_timeout = '300ms'", "REINDEX INDEX CONCURRENTLY dup_a")
    finally:
        writer.rollback()
        writer.close()
    frame = invalid_indexes(make_engine(fresh_db))
    assert rows(frame, "index_name", "fix_sql") == [("dup_a_ccnew", "DROP INDEX CONCURRENTLY public.dup_a_ccnew;")]
    assert frame.iloc[0]["reason"] == ("the new copy left by a REINDEX CONCURRENTLY that failed; the original index is still "
                                       "in place, so drop this copy (then run the REINDEX again if it is still needed)")


def test_index_being_built_concurrently_is_not_invalid(fresh_db):
    run(fresh_db, "CREATE TABLE busy (a int)", "INSERT INTO busy SELECT generate_series(1, 100)")
    writer = psycopg.connect(fresh_db)
    builder = psycopg.connect(fresh_db, autocommit=True)
    errors = []

    def build():
        try:
            builder.execute("CREATE INDEX CONCURRENTLY busy_a ON busy (a)")
        except Exception as exc:  # reported by the assertion below
            errors.append(exc)

    thread = threading.Thread(target=build)
    try:
        writer.execute("INSERT INTO busy VALUES (0)")  # an open writer makes the build wait, index still invalid
        thread.start()
        building = poll(lambda: run(fresh_db, """
            SELECT count(*) FROM pg_stat_progress_create_index p JOIN pg_index i ON i.indexrelid = p.index_relid
            WHERE NOT i.indisvalid AND p.index_relid = 'busy_a'::regclass"""), lambda r: r == [(1,)])
        assert building == [(1,)]
        assert invalid_indexes(make_engine(fresh_db)).empty
    finally:
        writer.rollback()
        thread.join(timeout=10)
        writer.close()
        builder.close()
    assert not errors and not thread.is_alive()


def test_index_hit_rates_count_the_lookups(fresh_db):
    run(fresh_db, "CREATE TABLE hits (id int PRIMARY KEY, v text)",
        "INSERT INTO hits SELECT g, 'v' FROM generate_series(1, 1000) g")
    scan(fresh_db, "SET enable_seqscan = off", "SELECT v FROM hits WHERE id = 500", times=20)
    engine = make_engine(fresh_db)
    frame = poll(lambda: index_hit_rates(engine), lambda f: f["idx_blks_hit"].sum() >= 20)
    assert list(frame.columns) == ["schema_name", "table_name", "index_name", "idx_blks_hit", "idx_blks_read", "hit_ratio"]
    assert list(frame["index_name"]) == ["hits_pkey"]
    row = frame.iloc[0]
    assert row["idx_blks_hit"] >= 20  # every lookup touched at least the root page
    assert row["hit_ratio"] == row["idx_blks_hit"] / (row["idx_blks_hit"] + row["idx_blks_read"])
    assert index_hit_ratio(engine) == pytest.approx(row["hit_ratio"])


def test_index_hit_ratio_is_none_before_any_index_read(fresh_db):
    engine = make_engine(fresh_db)
    assert index_hit_ratio(engine) is None
    # an index nobody has read yet adds no reads either; catalog indexes (read all the time) never count
    run(fresh_db, "CREATE TABLE unread (a int)", "CREATE INDEX unread_a ON unread (a)")
    assert index_hit_ratio(engine) is None
    assert rows(index_hit_rates(engine), "index_name", "idx_blks_hit", "idx_blks_read", "hit_ratio") == [
        ("unread_a", 0, 0, None)]


def test_index_hit_rates_leave_toast_indexes_out(fresh_db):
    run(fresh_db, "CREATE TABLE docs (body text)",
        "ALTER TABLE docs ALTER body SET STORAGE EXTERNAL",  # out of line, uncompressed: read through the TOAST index
        "INSERT INTO docs SELECT repeat('x', 10000) FROM generate_series(1, 20)")
    scan(fresh_db, "SELECT max(md5(body)) FROM docs", times=3)
    toast_reads = poll(lambda: run(fresh_db, """
        SELECT coalesce(sum(idx_blks_hit + idx_blks_read), 0) FROM pg_statio_all_indexes
        WHERE relid = (SELECT reltoastrelid FROM pg_class WHERE relname = 'docs')"""), lambda r: r[0][0] > 0)
    assert toast_reads[0][0] > 0  # the TOAST index was read, yet it is no user index
    engine = make_engine(fresh_db)
    assert index_hit_rates(engine).empty
    assert index_hit_ratio(engine) is None


def test_seq_scan_tables_flags_the_large_scanned_table(fresh_db):
    run(fresh_db,
        "CREATE TABLE big (a int)", "INSERT INTO big SELECT generate_series(1, 10000)",
        "CREATE TABLE tiny (a int)", "INSERT INTO tiny SELECT generate_series(1, 100)",
        "CREATE TABLE indexed (a int PRIMARY KEY)", "INSERT INTO indexed SELECT generate_series(1, 10000)",
        "CREATE TABLE y (id int)",
        f"CREATE TABLE {EVIL_QUOTED} (a int)",
        f"INSERT INTO {EVIL_QUOTED} SELECT generate_series(1, 200)")
    scan(fresh_db, "SELECT count(*) FROM big", "SELECT count(*) FROM tiny", f"SELECT count(*) FROM {EVIL_QUOTED}", times=5)
    scan(fresh_db, "SELECT count(*) FROM indexed", "SET enable_seqscan = off", "SELECT a FROM indexed WHERE a = 7")
    scan(fresh_db, "SELECT a FROM indexed WHERE a = 8", times=5)
    engine = make_engine(fresh_db)
    frame = poll(lambda: seq_scan_tables(engine), lambda f: list(f["table_name"]) == ["big"])
    assert list(frame.columns) == ["schema_name", "table_name", "seq_scan", "seq_tup_read", "idx_scan", "seq_scan_ratio",
                                   "seq_tup_read_per_second", "estimated_rows", "reason", "fix_sql"]
    big = frame.iloc[0]
    assert (big["schema_name"], big["table_name"], big["seq_scan"], big["seq_tup_read"]) == ("public", "big", 5, 50000)
    assert pd.isna(big["idx_scan"]) and big["seq_scan_ratio"] == 1.0 and big["estimated_rows"] == 10000
    assert big["reason"] == ("5 of its 5 scans were sequential, reading 50000 rows in all (5.0 times the table), "
                             "on a table of about 10000 rows")
    # per second of the counters' age, read after the table's (the divisor only grows)
    assert 0 < 50000 / big["seq_tup_read_per_second"] <= _stats_age_seconds(fresh_db)
    assert big["fix_sql"] == ('-- look at the Queries page for statements filtering public.big '
                              'and index their WHERE columns')
    # below min_rows: tiny and the hostile name appear only with a lower threshold; indexed is mostly index scans
    low = seq_scan_tables(engine, min_rows=100)
    assert list(low["table_name"]) == ["big", EVIL, "tiny"]
    assert low.iloc[1]["fix_sql"] == ('-- look at the Queries page for statements filtering public."x""; DROP TABLE y; --" '
                                      'and index their WHERE columns')
    assert run(fresh_db, "SELECT count(*) FROM pg_class WHERE relname = 'y'") == [(1,)]
    assert list(seq_scan_tables(engine, min_rows=100, min_seq_ratio=0.01)["table_name"]) == ["big", "indexed", EVIL, "tiny"]


def _stats_age_seconds(url) -> float:
    """Seconds the database's counters have been counting."""
    return run(url, "SELECT extract(epoch FROM now() - coalesce(stats_reset, pg_postmaster_start_time()))::float8 "
                    "FROM pg_stat_database WHERE datname = current_database()")[0][0]


def test_seq_scan_tables_rank_by_rows_read_not_by_the_share_of_scans(fresh_db):
    """A table read in full 1,000 times ranks first although its primary-key lookups (an N+1 loop's) outnumber
    those scans: the share of sequential scans alone would not even list it."""
    run(fresh_db,
        "CREATE TABLE hot (id int PRIMARY KEY, code int NOT NULL)",
        "INSERT INTO hot SELECT g, g FROM generate_series(1, 20000) g",
        "CREATE TABLE cold (a int)", "INSERT INTO cold SELECT generate_series(1, 10000)",
        "CREATE TABLE once (id int PRIMARY KEY, code int)", "INSERT INTO once SELECT g, g FROM generate_series(1, 20000) g",
        "ANALYZE hot, cold, once")
    scan(fresh_db, "SELECT 1")  # the setup's own counts published, then zeroed: only the scans below are counted
    run(fresh_db, "SELECT pg_stat_reset()")
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        for n in range(1000):
            conn.execute("SELECT id FROM hot WHERE code = %s", (n,))  # no index on code: a full scan each
        for n in range(3000):
            conn.execute("SELECT code FROM hot WHERE id = %s", (n,))
        for n in range(50):  # the same primary-key loop on a table read in full once only
            conn.execute("SELECT code FROM once WHERE id = %s", (n,))
        conn.execute("SELECT count(*) FROM once WHERE code = 7")
        for _ in range(5):
            conn.execute("SELECT count(*) FROM cold")
        flush_statistics(conn)
    engine = make_engine(fresh_db)
    frame = poll(lambda: seq_scan_tables(engine), lambda f: list(f["table_name"]) == ["hot", "cold"])
    assert list(frame["table_name"]) == ["hot", "cold"]  # "once": 1 full read, mostly index scans
    hot = frame.iloc[0]
    assert (hot["seq_scan"], hot["seq_tup_read"], hot["idx_scan"]) == (1000, 20_000_000, 3000)
    assert hot["seq_scan_ratio"] == 0.25
    assert hot["reason"] == ("1000 of its 4000 scans were sequential, reading 20000000 rows in all (1000.0 times the "
                             "table), on a table of about 20000 rows")
    assert hot["seq_tup_read_per_second"] > frame.iloc[1]["seq_tup_read_per_second"] > 0
    assert 20_000_000 / hot["seq_tup_read_per_second"] == pytest.approx(_stats_age_seconds(fresh_db), abs=5)
    # by the share alone (the old rule) it is gone; reading it in full 2,000 times would be needed to list it
    assert list(seq_scan_tables(engine, min_full_reads=2000)["table_name"]) == ["cold"]


def test_seq_scan_tables_cover_user_tables_materialized_views_and_partitions_only(fresh_db):
    run(fresh_db,
        "CREATE TABLE information_schema.hidden (a int)",
        "INSERT INTO information_schema.hidden SELECT generate_series(1, 200)",
        "CREATE MATERIALIZED VIEW mv AS SELECT generate_series(1, 200) AS a",
        "CREATE TABLE parted (a int) PARTITION BY RANGE (a)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (1000)",
        "INSERT INTO parted SELECT generate_series(1, 200)")
    scan(fresh_db, "SELECT count(*) FROM information_schema.hidden", "SELECT count(*) FROM mv", times=1)
    scan(fresh_db, "SELECT count(*) FROM parted", times=2)
    session, temp = temp_schema_session(fresh_db, "CREATE TEMP TABLE tt (a int)",
                                        "INSERT INTO tt SELECT generate_series(1, 200)")
    try:
        for _ in range(3):
            session.execute("SELECT count(*) FROM tt")
        flush_statistics(session)
        session.execute("SELECT 1")
        engine = make_engine(fresh_db)
        expected = [(temp, "tt", 3, 600, 200), ("public", "parted_1", 2, 400, 200), ("public", "mv", 1, 200, 200)]
        frame = poll(lambda: seq_scan_tables(engine, min_rows=100), lambda f: list(f["seq_tup_read"]) == [600, 400, 200])
        # the partitioned parent is never scanned itself (PostgreSQL 16+ lists it in pg_stat_user_tables with 0 scans)
        assert [tuple(row) for row in frame[["schema_name", "table_name", "seq_scan", "seq_tup_read",
                                              "estimated_rows"]].itertuples(index=False)] == expected
        assert frame["idx_scan"].isna().all()
        assert seq_scan_tables(engine, min_rows=201).empty  # the size test comes first and still applies
    finally:
        session.close()


def test_seq_scan_hint_stays_one_comment_line(fresh_db):
    run(fresh_db, "CREATE TABLE \"a\nDROP TABLE y;\" (a int)", "INSERT INTO \"a\nDROP TABLE y;\" VALUES (1)")
    scan(fresh_db, "SELECT * FROM \"a\nDROP TABLE y;\"")
    frame = poll(lambda: seq_scan_tables(make_engine(fresh_db), min_rows=0), lambda f: len(f) == 1)
    assert frame.iloc[0]["fix_sql"] == ('-- look at the Queries page for statements filtering public."a DROP TABLE y;" '
                                        'and index their WHERE columns')
