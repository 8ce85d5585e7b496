"""The one execution path: URL forms, read-only transactions, timeouts and plain-word errors."""
import threading
import uuid

import psycopg
import pytest
from sqlalchemy.engine import make_url

from demo.postgres import free_port
from queries.connection import (
    check_supported,
    describe_target,
    fetch_frame,
    make_engine,
    normalize_url,
    read_only,
    server_version_num,
)
from queries.errors import AuthenticationError, InvalidTargetError, PgPulseError, UnreachableError, UnsupportedServerError, scrub

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version


@pytest.mark.parametrize("url, host, database", [
    ("postgres://u:p@db.example.com:5433/app", "db.example.com", "app"),
    ("postgresql://u@db/app?sslmode=require", "db", "app"),
    ("postgresql+asyncpg://u@db/app", "db", "app"),
    ("postgresql+psycopg2://u@db/app", "db", "app"),
    ("postgresql:///app?host=/var/run/postgresql", None, "app"),
    ("host=db port=5433 dbname=app user=u sslmode=disable", "db", "app"),
])
def test_url_forms_users_write_are_accepted(url, host, database):
    parsed = normalize_url(url)
    assert parsed.drivername == "postgresql+psycopg"
    assert parsed.host == host and parsed.database == database


def test_libpq_options_survive_normalisation():
    assert normalize_url("postgres://u@db/app?sslmode=require&connect_timeout=3").query == {
        "sslmode": "require", "connect_timeout": "3"}
    assert normalize_url("postgresql:///app?host=/tmp/sock").query["host"] == "/tmp/sock"


@pytest.mark.parametrize("url, message", [
    ("mysql://root:pw@localhost/db", "scheme 'mysql'"),
    ("redis://localhost:6379/0", "scheme 'redis'"),
    ("", "empty"),
    ("not a url at all", "could not be parsed"),
])
def test_non_postgresql_urls_are_refused_clearly(url, message):
    with pytest.raises(InvalidTargetError, match=message):
        normalize_url(url)


def test_describe_target_never_shows_the_password():
    assert describe_target("postgres://admin:s3cret@db.example.com:5432/app") == "db.example.com:5432/app"
    assert "s3cret" not in scrub("connection to postgresql://admin:s3cret@db/app failed; password=s3cret")


def test_versions_below_14_are_refused():
    with pytest.raises(UnsupportedServerError, match="PostgreSQL 13 is not supported"):
        check_supported(130011)
    assert check_supported(140000) == 140000


def test_server_version_is_read(pg_admin_url, pg_version):
    assert server_version_num(make_engine(pg_admin_url)) == pg_version


def test_unreachable_server_is_an_unreachable_error_in_plain_words():
    engine = make_engine(f"postgresql://u:pw@127.0.0.1:{free_port()}/db", connect_timeout_s=2)
    with pytest.raises(UnreachableError, match=r"database unreachable: ") as caught:
        server_version_num(engine)
    assert caught.value.kind == "unreachable" and "OperationalError" not in str(caught.value)


def test_wrong_password_is_reported_as_authentication(pg_admin_url):
    role = f"pw_{uuid.uuid4().hex[:8]}"
    with psycopg.connect(pg_admin_url, autocommit=True) as conn:
        conn.execute("DO $$ BEGIN CREATE ROLE pgpulse_password_auth NOLOGIN; "
                     "EXCEPTION WHEN duplicate_object THEN NULL; END $$")
        conn.execute(f"CREATE ROLE {role} LOGIN PASSWORD 'right-password' IN ROLE pgpulse_password_auth")
    wrong = make_url(pg_admin_url).set(username=role, password="wrong-password")
    with pytest.raises(AuthenticationError, match="password authentication failed") as caught:
        server_version_num(make_engine(wrong))
    assert isinstance(caught.value, UnreachableError) and "wrong-password" not in str(caught.value)
    assert str(caught.value).count("password authentication failed") == 1, str(caught.value)  # said once
    right = make_url(pg_admin_url).set(username=role, password="right-password")
    assert server_version_num(make_engine(right)) >= 140000


def test_queries_run_read_only_and_are_rolled_back(fresh_db):
    engine = make_engine(fresh_db)
    with pytest.raises(PgPulseError, match="read-only transaction") as caught:
        with read_only(engine) as conn:
            conn.exec_driver_sql("CREATE TABLE must_not_exist (id int)")
    assert caught.value.sqlstate == "25006"
    with read_only(engine) as conn:
        settings = conn.exec_driver_sql(
            "SELECT current_setting('statement_timeout'), current_setting('lock_timeout'), "
            "current_setting('transaction_read_only')").one()
    assert tuple(settings) == ("5s", "1s", "on")


def test_statement_timeout_is_reported_as_such(fresh_db):
    with pytest.raises(PgPulseError, match="statement_timeout") as caught:
        with read_only(make_engine(fresh_db), statement_timeout_ms=200) as conn:
            conn.exec_driver_sql("SELECT pg_sleep(2)")
    assert caught.value.kind == "timeout" and caught.value.sqlstate == "57014"


def test_a_held_lock_ends_within_lock_timeout(fresh_db):
    """A migration holding ACCESS EXCLUSIVE must not hang the dashboard."""
    with psycopg.connect(fresh_db, autocommit=True) as setup:
        setup.execute("CREATE TABLE locked_by_migration (id int)")
    migration = psycopg.connect(fresh_db)
    migration.execute("LOCK TABLE locked_by_migration IN ACCESS EXCLUSIVE MODE")
    try:
        with pytest.raises(PgPulseError, match="lock_timeout") as caught:
            with read_only(make_engine(fresh_db), lock_timeout_ms=300) as conn:
                conn.exec_driver_sql("SELECT count(*) FROM locked_by_migration")
        assert caught.value.kind == "lock_timeout"
    finally:
        migration.rollback()
        migration.close()


def test_pool_never_exceeds_its_size(fresh_db):
    engine = make_engine(fresh_db, pool_size=2, application_name="pgpulse-pool-test")
    barrier = threading.Barrier(6, timeout=30)

    def viewer():
        barrier.wait()
        fetch_frame(engine, "select_server_summary")

    threads = [threading.Thread(target=viewer) for _ in range(6)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with psycopg.connect(fresh_db) as conn:
        count = conn.execute("SELECT count(*) FROM pg_stat_activity WHERE application_name = 'pgpulse-pool-test'"
                             ).fetchone()[0]
    assert 1 <= count <= 2


def test_timestamps_come_back_in_utc_whatever_the_server_zone(fresh_db):
    """One zone on every page: a database whose TimeZone is Asia/Tokyo still gives UTC timestamps."""
    from datetime import UTC

    from queries.activity import activity

    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute(f'ALTER DATABASE "{conn.info.dbname}" SET TimeZone = \'Asia/Tokyo\'')
    engine = make_engine(fresh_db)
    try:
        frame = activity(engine)
        assert str(frame["backend_start"].dtype) == "datetime64[us, UTC]"
        with psycopg.connect(fresh_db) as conn:  # the server's own zone is untouched for everyone else
            assert conn.execute("SHOW TimeZone").fetchone()[0] == "Asia/Tokyo"
            started = conn.execute("SELECT backend_start FROM pg_stat_activity WHERE pid = pg_backend_pid()").fetchone()[0]
        assert started.utcoffset().total_seconds() == 9 * 3600 and frame["backend_start"].dt.tz == UTC
    finally:
        engine.dispose()
