"""queries.maintenance against real servers: dead rows, autovacuum thresholds, wraparound and overflow."""
import uuid

import pandas as pd
import psycopg
import pytest
from sqlalchemy.engine import make_url

from queries.connection import make_engine
from queries.maintenance import (
    database_wraparound,
    integer_column_overflow,
    sequence_overflow,
    table_wraparound,
    tables_past_autovacuum_threshold,
    vacuum_stats,
)
from tests.conftest import poll
from tests.conftest import run_and_flush as run

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

STOP_LIMIT_AGE = 2147483647 - 3000000


def row_of(frame, column, value):
    rows = frame[frame[column] == value]
    assert len(rows) == 1, f"expected one row with {column} = {value!r}, got {len(rows)}"
    return rows.iloc[0]


@pytest.fixture
def churned_db(fresh_db):
    """churn: 1000 rows updated 3 times with autovacuum off and a threshold of 10; calm: 100 quiet rows."""
    run(fresh_db,
        "CREATE TABLE churn (id int PRIMARY KEY, v int) WITH (autovacuum_enabled = false, "
        "autovacuum_vacuum_threshold = 10, autovacuum_vacuum_scale_factor = 0)",
        "CREATE TABLE calm (id int PRIMARY KEY)",
        "INSERT INTO churn SELECT g, 0 FROM generate_series(1, 1000) g",
        "INSERT INTO calm SELECT g FROM generate_series(1, 100) g",
        "ANALYZE calm")
    # one transaction: its own earlier row versions cannot be pruned before commit, so exactly 3000 die
    with psycopg.connect(fresh_db) as conn:
        for _ in range(3):
            conn.execute("UPDATE churn SET v = v + 1")
    run(fresh_db)
    return fresh_db


def test_dead_rows_and_threshold_of_a_table_with_autovacuum_off(churned_db):
    engine = make_engine(churned_db)
    frame = poll(lambda: vacuum_stats(engine), lambda f: (f["dead_rows"] == 3000).any())
    assert list(frame["table_name"]) == ["churn", "calm"]  # most dead rows first
    churn = row_of(frame, "table_name", "churn")
    assert (churn["schema_name"], churn["live_rows"], churn["dead_rows"]) == ("public", 1000, 3000)
    assert churn["dead_row_ratio"] == pytest.approx(0.75)
    assert churn["autovacuum_threshold_rows"] == 10  # 10 + 0 x reltuples, from the storage parameters
    assert churn["past_autovacuum_threshold"] and not churn["autovacuum_enabled"]
    assert churn["rows_modified_since_analyze"] == 4000
    assert pd.isna(churn["last_vacuum"]) and churn["vacuum_count"] == 0
    calm = row_of(frame, "table_name", "calm")
    assert calm["autovacuum_threshold_rows"] == 70  # server defaults: 50 + 0.2 x 100 analyzed rows
    assert calm["dead_rows"] == 0 and calm["dead_row_ratio"] == 0
    assert calm["autovacuum_enabled"] and not calm["past_autovacuum_threshold"]
    assert not pd.isna(calm["last_analyze"]) and calm["analyze_count"] == 1


def test_only_the_churned_table_is_past_its_threshold(churned_db):
    engine = make_engine(churned_db)
    frame = poll(lambda: tables_past_autovacuum_threshold(engine), lambda f: len(f) > 0)
    assert list(frame["table_name"]) == ["churn"]
    assert frame.iloc[0]["dead_rows"] == 3000


def test_vacuum_clears_the_dead_rows_and_sets_last_vacuum(churned_db):
    run(churned_db, "VACUUM churn")
    engine = make_engine(churned_db)
    frame = poll(lambda: vacuum_stats(engine), lambda f: (f["vacuum_count"] == 1).any())
    churn = row_of(frame, "table_name", "churn")
    assert churn["dead_rows"] == 0 and churn["vacuum_count"] == 1
    assert not pd.isna(churn["last_vacuum"])
    assert not churn["past_autovacuum_threshold"]
    assert tables_past_autovacuum_threshold(engine).empty


def test_limit_is_applied_in_sql(churned_db):
    engine = make_engine(churned_db)
    poll(lambda: vacuum_stats(engine), lambda f: (f["dead_rows"] == 3000).any())
    assert list(vacuum_stats(engine, limit=1)["table_name"]) == ["churn"]



def test_table_storage_parameters_and_which_relations_are_listed(fresh_db):
    run(fresh_db,
        # the server's threshold (50) with the table's own scale factor: 50 + 0.01 x 5000 analyzed rows = 100
        "CREATE TABLE scaled (id int) WITH (autovacuum_enabled = false, autovacuum_vacuum_scale_factor = 0.01)",
        "INSERT INTO scaled SELECT generate_series(1, 5000)")
    run(fresh_db,  # the insert's counts are flushed first, or ANALYZE's row count would be added to them
        "ANALYZE scaled",
        "DELETE FROM scaled WHERE id <= 101",
        "CREATE MATERIALIZED VIEW mv AS SELECT 1 AS x",
        "CREATE TABLE parted (k int) PARTITION BY RANGE (k)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)",
        # more dead rows than any user table, but information_schema is not a user schema
        "CREATE TABLE information_schema.hidden (id int) WITH (autovacuum_enabled = false)",
        "INSERT INTO information_schema.hidden SELECT generate_series(1, 500)",
        "DELETE FROM information_schema.hidden")
    engine = make_engine(fresh_db)
    frame = poll(lambda: vacuum_stats(engine), lambda f: (f["dead_rows"] == 101).any())
    # as pg_stat_user_tables: tables, partitioned tables and materialized views; most dead rows first, then by name
    assert list(frame["table_name"]) == ["scaled", "mv", "parted", "parted_1"]
    scaled = frame.iloc[0]
    assert (scaled["live_rows"], scaled["dead_rows"], scaled["autovacuum_threshold_rows"]) == (4899, 101, 100)
    assert scaled["past_autovacuum_threshold"] and not scaled["autovacuum_enabled"]
    assert scaled["rows_modified_since_analyze"] == 101
    assert list(tables_past_autovacuum_threshold(engine)["table_name"]) == ["scaled"]


def test_a_table_max_threshold_caps_its_trigger_point(fresh_db, pg_version):
    if pg_version < 180000:
        pytest.skip("autovacuum_vacuum_max_threshold is new in PostgreSQL 18")
    run(fresh_db,
        "CREATE TABLE capped (id int) WITH (autovacuum_enabled = false, autovacuum_vacuum_max_threshold = 20)",
        "CREATE TABLE uncapped (id int) WITH (autovacuum_enabled = false, autovacuum_vacuum_max_threshold = -1)",
        "INSERT INTO capped SELECT generate_series(1, 500)",
        "INSERT INTO uncapped SELECT generate_series(1, 500)")
    run(fresh_db,
        "ANALYZE capped, uncapped",
        "DELETE FROM capped WHERE id <= 30",
        "DELETE FROM uncapped WHERE id <= 30")
    engine = make_engine(fresh_db)
    frame = poll(lambda: vacuum_stats(engine), lambda f: (f["dead_rows"] == 30).sum() == 2)
    rows = frame[["table_name", "dead_rows", "autovacuum_threshold_rows", "past_autovacuum_threshold"]]
    # 50 + 0.2 x 500 = 150, capped at 20 by the table's own setting; -1 lifts the server's cap
    assert rows.values.tolist() == [["capped", 30, 20, True], ["uncapped", 30, 150, False]]
    assert list(tables_past_autovacuum_threshold(engine)["table_name"]) == ["capped"]

def test_database_wraparound_lists_the_current_database(fresh_db):
    run(fresh_db, "CREATE TABLE spend_an_xid (id int)")
    frame = database_wraparound(make_engine(fresh_db))
    row = row_of(frame, "database_name", make_url(fresh_db).database)
    assert row["age_xids"] > 0
    assert row["xids_until_wraparound"] == STOP_LIMIT_AGE - row["age_xids"]
    assert row["percent_towards_wraparound"] == pytest.approx(100 * row["age_xids"] / STOP_LIMIT_AGE)
    assert row["autovacuum_freeze_max_age"] == 200_000_000
    assert row["mxid_age"] >= 0
    assert {"postgres", "template1"} <= set(frame["database_name"])
    assert frame["age_xids"].is_monotonic_decreasing


def test_table_wraparound_names_tables_and_their_toast(fresh_db):
    run(fresh_db, "CREATE TABLE aged (id int, body text) WITH (autovacuum_freeze_max_age = 100000)",
        "INSERT INTO aged VALUES (1, 'x')")
    frame = table_wraparound(make_engine(fresh_db), limit=1000)
    aged = row_of(frame, "table_name", "aged")
    assert (aged["schema_name"], aged["table_kind"]) == ("public", "table")
    assert aged["autovacuum_freeze_max_age"] == 100000  # the storage parameter lowers the server's 200M
    assert aged["percent_towards_freeze_max_age"] == pytest.approx(100 * aged["age_xids"] / 100000)
    assert aged["xids_until_wraparound"] == STOP_LIMIT_AGE - aged["age_xids"]
    toast = row_of(frame, "toast_of", "public.aged")
    assert toast["schema_name"] == "pg_toast" and toast["table_kind"] == "toast"
    assert frame["age_xids"].is_monotonic_decreasing  # oldest first
    assert len(table_wraparound(make_engine(fresh_db), limit=5)) == 5


def test_every_toast_table_names_the_table_it_belongs_to(fresh_db):
    run(fresh_db, "CREATE TABLE notes (id int, body text)", "CREATE MATERIALIZED VIEW notes_mv AS SELECT * FROM notes")
    frame = table_wraparound(make_engine(fresh_db), limit=100_000)
    with psycopg.connect(fresh_db) as conn:
        owners = dict(conn.execute("SELECT t.relname, format('%I.%I', n.nspname, c.relname) FROM pg_class c "
                                   "JOIN pg_class t ON t.oid = c.reltoastrelid "
                                   "JOIN pg_namespace n ON n.oid = c.relnamespace").fetchall())
    toast = frame[frame["table_kind"] == "toast"]
    # the system catalogs' TOAST tables too, which have no pg_depend entry (made at bootstrap)
    assert dict(zip(toast["table_name"], toast["toast_of"], strict=True)) == owners
    assert {"public.notes", "public.notes_mv", "pg_catalog.pg_proc"} <= set(owners.values())
    assert frame.loc[frame["table_kind"] != "toast", "toast_of"].isna().all()


@pytest.fixture
def sequences_db(fresh_db):
    run(fresh_db,
        "CREATE TABLE t (id serial PRIMARY KEY)",
        "SELECT setval('t_id_seq', 1932735283)",                      # 90% of integer
        "CREATE TABLE ident (id int GENERATED BY DEFAULT AS IDENTITY, note text)",
        "SELECT setval(pg_get_serial_sequence('ident', 'id'), 2040109465)",  # 95% of integer
        "CREATE SEQUENCE wide_seq AS bigint",
        "CREATE TABLE trap (id int DEFAULT nextval('wide_seq'))",    # int column on a bigint sequence
        "SELECT setval('wide_seq', 2000000000)",
        "CREATE SEQUENCE narrow_seq AS integer",
        "CREATE TABLE roomy (id bigint DEFAULT nextval('narrow_seq'))",  # bigint column: never overflows
        "SELECT setval('narrow_seq', 2000000000)",
        "CREATE TABLE tiny (id smallserial)",
        "SELECT setval('tiny_id_seq', 32000)",
        "CREATE TABLE quiet (id serial)",                              # never used
        "CREATE TABLE parted (id serial, k int) PARTITION BY RANGE (k)",
        "CREATE TABLE parted_1 PARTITION OF parted FOR VALUES FROM (0) TO (10)",
        "CREATE SEQUENCE counter AS smallint",
        "SELECT setval('counter', 32000)",
        "CREATE SEQUENCE countdown AS smallint INCREMENT -1",
        "SELECT setval('countdown', -30000)")
    return fresh_db


def test_integer_columns_near_their_limit(sequences_db):
    frame = integer_column_overflow(make_engine(sequences_db), min_ratio=0.5)
    assert list(frame["table_name"]) == ["tiny", "ident", "trap", "t"]  # most used first; roomy is bigint
    t = row_of(frame, "table_name", "t")
    assert (t["column_name"], t["data_type"], t["sequence_name"], t["is_identity"]) == ("id", "integer", "t_id_seq", False)
    assert t["last_value"] == 1932735283 and t["type_max_value"] == 2147483647
    assert t["used_ratio"] == pytest.approx(0.9, abs=1e-6)
    assert t["fix_sql"] == "ALTER TABLE public.t ALTER COLUMN id TYPE bigint"
    assert t["sequence_fix_sql"] == "ALTER SEQUENCE public.t_id_seq AS bigint"
    assert t["reason"] == "integer column and integer sequence: nextval() fails once the type's limit is reached"
    ident = row_of(frame, "table_name", "ident")
    assert ident["is_identity"] and ident["used_ratio"] == pytest.approx(0.95, abs=1e-6)
    assert ident["fix_sql"] == "ALTER TABLE public.ident ALTER COLUMN id TYPE bigint"
    assert pd.isna(ident["sequence_fix_sql"])  # an identity's sequence follows the column's type
    trap = row_of(frame, "table_name", "trap")
    assert (trap["sequence_name"], trap["sequence_data_type"]) == ("wide_seq", "bigint")
    assert trap["reason"].startswith("integer column fed by a bigint sequence: inserts fail")
    assert pd.isna(trap["sequence_fix_sql"])
    tiny = row_of(frame, "table_name", "tiny")
    assert (tiny["data_type"], tiny["type_max_value"]) == ("smallint", 32767)
    assert tiny["used_ratio"] == pytest.approx(31999 / 32766)


def test_unused_and_partitioned_serial_columns(sequences_db):
    frame = integer_column_overflow(make_engine(sequences_db))
    assert set(frame["table_name"]) == {"tiny", "ident", "trap", "t", "quiet", "parted"}  # not the partition
    quiet = row_of(frame, "table_name", "quiet")
    assert pd.isna(quiet["last_value"]) and quiet["used_ratio"] == 0
    assert quiet["reason"] == "never used: nextval() has not been called yet"
    assert row_of(frame, "table_name", "parted")["fix_sql"] == "ALTER TABLE public.parted ALTER COLUMN id TYPE bigint"


def test_defaults_reading_two_sequences_and_defaults_that_are_not_sequences(fresh_db):
    run(fresh_db,
        "CREATE SEQUENCE s1", "CREATE SEQUENCE s2",
        "SELECT setval('s1', 1000)", "SELECT setval('s2', 5000)",
        "CREATE TABLE named (id int)",
        # one column fed by two sequences, and a default that depends on a table, not on a sequence
        "CREATE TABLE two (id int DEFAULT (nextval('s1') + nextval('s2'))::int,"
        " label int DEFAULT length('named'::regclass::text))",
        "CREATE TABLE gone (a int DEFAULT nextval('s1'), b int)", "ALTER TABLE gone DROP COLUMN a",
        "CREATE VIEW v AS SELECT 1 AS x", "ALTER VIEW v ALTER COLUMN x SET DEFAULT nextval('s2')",
        "CREATE TABLE parent (id serial)", "CREATE TABLE child () INHERITS (parent)")
    frame = integer_column_overflow(make_engine(fresh_db))
    assert frame[["table_name", "column_name", "sequence_name"]].values.tolist() == [
        ["two", "id", "s2"], ["two", "id", "s1"], ["parent", "id", "parent_id_seq"]]  # most used first
    assert frame["last_value"].tolist()[:2] == [5000, 1000]


def test_the_fix_makes_the_column_safe(sequences_db):
    row = row_of(integer_column_overflow(make_engine(sequences_db), min_ratio=0.5), "table_name", "t")
    run(sequences_db, row["fix_sql"], row["sequence_fix_sql"])
    assert "t" not in set(integer_column_overflow(make_engine(sequences_db))["table_name"])
    counter = row_of(sequence_overflow(make_engine(sequences_db)), "sequence_name", "t_id_seq")
    assert counter["data_type"] == "bigint" and counter["used_ratio"] < 1e-9


def test_sequences_near_the_end_of_their_range(sequences_db):
    frame = sequence_overflow(make_engine(sequences_db), min_ratio=0.9)
    # equal ratios (counter and tiny_id_seq) are ordered by name
    assert list(frame["sequence_name"]) == ["counter", "tiny_id_seq", "ident_id_seq", "narrow_seq", "countdown", "t_id_seq"]
    counter = row_of(frame, "sequence_name", "counter")
    assert (counter["schema_name"], counter["data_type"], counter["last_value"], counter["max_value"]) == (
        "public", "smallint", 32000, 32767)
    assert counter["used_ratio"] == pytest.approx(31999 / 32766)
    assert counter["values_remaining"] == 767
    assert pd.isna(counter["owned_by"])
    assert counter["reason"] == "nextval() fails once max_value is reached"
    countdown = row_of(frame, "sequence_name", "countdown")
    assert countdown["used_ratio"] == pytest.approx(29999 / 32767)
    assert countdown["values_remaining"] == 2768
    assert countdown["reason"] == "nextval() fails once min_value is reached"
    assert row_of(frame, "sequence_name", "t_id_seq")["owned_by"] == "public.t.id"
    assert row_of(frame, "sequence_name", "ident_id_seq")["owned_by"] == "public.ident.id"


def test_unused_and_unreadable_sequences(sequences_db):
    role = f"seqless_{uuid.uuid4().hex[:8]}"
    run(sequences_db, f"CREATE ROLE {role} LOGIN", f"GRANT SELECT ON SEQUENCE counter TO {role}")
    frame = sequence_overflow(make_engine(make_url(sequences_db).set(username=role)), limit=1000)
    assert row_of(frame, "sequence_name", "counter")["last_value"] == 32000
    hidden = row_of(frame, "sequence_name", "t_id_seq")
    assert pd.isna(hidden["last_value"]) and pd.isna(hidden["used_ratio"])
    assert hidden["reason"].startswith("unknown: this role needs SELECT or USAGE")
    quiet = row_of(sequence_overflow(make_engine(sequences_db), limit=1000), "sequence_name", "quiet_id_seq")
    assert quiet["reason"] == "never used: nextval() has not been called yet"
    assert list(frame["sequence_name"])[-1] != "counter"  # unknown ratios sort last


def test_used_bigint_sequences_report_their_exact_remaining_values(fresh_db):
    # a float8 near 9.2e18 rounds up past the bigint limit: used bigserial sequences once failed with SQLSTATE 22003
    run(fresh_db,
        "CREATE TABLE events (id bigserial PRIMARY KEY)", "SELECT nextval('events_id_seq')",
        "CREATE TABLE audit (id bigint GENERATED ALWAYS AS IDENTITY)",
        "SELECT setval(pg_get_serial_sequence('audit', 'id'), 9223372036854775000)",
        "CREATE SEQUENCE falling AS bigint INCREMENT -1", "SELECT nextval('falling')",
        "CREATE SEQUENCE everything MINVALUE -9223372036854775808 START -9223372036854775808",
        "SELECT nextval('everything')")
    frame = sequence_overflow(make_engine(fresh_db), limit=1000)
    rows = {row["sequence_name"]: row for row in frame.to_dict("records")}
    assert set(rows) == {"events_id_seq", "audit_id_seq", "falling", "everything"}
    assert list(frame["sequence_name"])[0] == "audit_id_seq"  # the one near its end first
    events, audit = rows["events_id_seq"], rows["audit_id_seq"]
    assert (events["data_type"], events["last_value"], events["max_value"], events["values_remaining"]) == (
        "bigint", 1, 9223372036854775807, 9223372036854775806)
    assert events["used_ratio"] == 0 and events["owned_by"] == "public.events.id"
    assert (audit["last_value"], audit["values_remaining"], audit["owned_by"]) == (
        9223372036854775000, 807, "public.audit.id")
    assert audit["used_ratio"] == pytest.approx(1.0)
    assert (rows["falling"]["last_value"], rows["falling"]["values_remaining"]) == (-1, 9223372036854775807)
    assert rows["everything"]["values_remaining"] == 9223372036854775807  # 2^64 - 1 left: capped at the bigint limit
    assert list(sequence_overflow(make_engine(fresh_db), min_ratio=0.9)["sequence_name"]) == ["audit_id_seq"]
