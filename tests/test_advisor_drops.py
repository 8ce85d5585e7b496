"""What-if drop: with HypoPG 1.4+ each unused or duplicate index is hidden from the planner and the statements on its
table re-planned. Debian's postgresql-15-hypopg here is 1.3.1, without hypopg_hide_index, and no newer HypoPG can be
installed on this machine: these tests exercise the detection and the neutral line on real servers; the hide path
itself is not exercised here."""
import psycopg
import pytest

from queries.advisors.drops import COLUMNS, NEEDS_HIDE, HypoPGStatus, hypopg_status, what_if_drop

pytestmark = pytest.mark.all_versions  # data layer: every supported PostgreSQL version

SETUP = [
    "CREATE TABLE orders (id int PRIMARY KEY, customer_id int NOT NULL)",
    "INSERT INTO orders SELECT g, g % 100 FROM generate_series(1, 20000) g",
    "CREATE INDEX orders_customer ON orders (customer_id)",
    "CREATE INDEX orders_customer_again ON orders (customer_id)",  # a duplicate, and never scanned
    "ANALYZE orders",
]


def _indexed(url: str, hypopg: bool) -> None:
    with psycopg.connect(url, autocommit=True) as conn:
        for statement in SETUP:
            conn.execute(statement)
        if hypopg:
            conn.execute("CREATE EXTENSION hypopg")


def test_without_hypopg_hide_index_what_if_drop_says_what_it_needs(fresh_db, engine, pg_version):
    hypopg = pg_version // 10000 == 15  # Debian's postgresql-15-hypopg: 1.3.1
    _indexed(fresh_db, hypopg)
    status = hypopg_status(engine)
    if hypopg:
        assert status == HypoPGStatus("1.3.1", False)
        assert status.note == (f"{NEEDS_HIDE}: HypoPG 1.3.1 is installed; CREATE EXTENSION hypopg (or ALTER EXTENSION "
                               "hypopg UPDATE) with 1.4 or newer.")
    else:
        assert status == HypoPGStatus(None, False)
        assert status.note.startswith(f"{NEEDS_HIDE}: HypoPG is not installed;")
    frame = what_if_drop(engine)
    assert frame.empty and list(frame.columns) == list(COLUMNS)  # nothing hidden, nothing dropped
    with psycopg.connect(fresh_db) as conn:
        assert conn.execute("SELECT count(*) FROM pg_index WHERE indrelid = 'orders'::regclass").fetchone() == (3,)


def test_indexes_page_shows_the_one_neutral_line(app_env, pg_version):
    from tests.test_app import run_page

    _indexed(app_env, pg_version // 10000 == 15)
    app = run_page("views/indexes.py")
    assert not app.exception and not app.error, [error.value for error in app.error]
    lines = [caption.value for caption in app.caption if caption.value.startswith(NEEDS_HIDE)]
    assert len(lines) == 1
