"""A big catalog for the scale benchmark: many tables and indexes, many statements, many sessions.

build_catalog() creates, set-based and in batches (one DO block per batch, so no transaction holds
tens of thousands of relation locks), `tables` tables spread over `schemas` schemas, each with a
few rows, a primary key and `indexes_per_table` secondary indexes; then resets pg_stat_statements
and runs `statements` distinct statements; then opens idle sessions and sessions running
pg_sleep, held until the returned Catalog is closed. A catalog built with the same parameters is
reused (its parameters are kept in the table pgpulse_bench_meta.params).
"""
from __future__ import annotations

import json
import time
from dataclasses import dataclass, field

import psycopg
from psycopg import sql

BATCH_TABLES = 250
ROWS_PER_TABLE = 20
META_SCHEMA = "pgpulse_bench_meta"

CREATE_BATCH = """
DO $$
DECLARE
    t int;
    name text;
BEGIN
    FOR t IN {first}..{last} LOOP
        name := format('%I.%I', 's' || lpad((t % {schemas})::text, 2, '0'), 't' || lpad(t::text, 5, '0'));
        -- rows first, indexes after: CREATE INDEX sets relpages / reltuples of table and index
        EXECUTE format('CREATE TABLE %s (id int NOT NULL, a int, b text, c timestamptz)', name);
        EXECUTE format('INSERT INTO %s SELECT g, g %% 7, md5(g::text), now() FROM generate_series(1, {rows}) g', name);
        EXECUTE format('ALTER TABLE %s ADD PRIMARY KEY (id)', name);
        FOR i IN 1..{indexes} LOOP
            EXECUTE format('CREATE INDEX ON %s (%s)', name, (ARRAY['a', 'b', 'c', 'a, b', 'b, c', 'a, c'])[1 + (i - 1) % 6]);
        END LOOP;
    END LOOP;
END
$$
"""

# distinct shapes: column list x predicate, over distinct tables
COLUMN_LISTS = ("id", "id, a", "a, b", "id, b, c", "count(*)")
PREDICATES = ("id = %s", "a = %s", "id < %s")


def _table_name(number: int, schemas: int) -> sql.Composed:
    return sql.SQL("{}.{}").format(sql.Identifier(f"s{number % schemas:02d}"), sql.Identifier(f"t{number:05d}"))


def database_url(admin_url: str, database: str) -> str:
    return admin_url.rsplit("/", 1)[0] + "/" + database


@dataclass
class Catalog:
    """The built catalog and the sessions held open on it; close() ends the sessions."""

    url: str
    params: dict
    build_seconds: float
    statements_seconds: float
    sessions: list[psycopg.Connection] = field(default_factory=list, repr=False)

    def close(self) -> None:
        for conn in self.sessions:
            try:
                conn.cancel_safe() if hasattr(conn, "cancel_safe") else conn.cancel()
            except Exception:  # noqa: BLE001 - the session may be gone already
                pass
            conn.close()
        self.sessions.clear()

    def __enter__(self) -> Catalog:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def _ensure_database(admin_url: str, database: str) -> None:
    with psycopg.connect(admin_url, autocommit=True) as conn:
        if not conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (database,)).fetchone():
            conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(database)))


def _built_params(conn: psycopg.Connection) -> dict | None:
    row = conn.execute("SELECT to_regclass(%s) IS NOT NULL", (f"{META_SCHEMA}.params",)).fetchone()
    if not row[0]:
        return None
    found = conn.execute(sql.SQL("SELECT params FROM {}.params").format(sql.Identifier(META_SCHEMA))).fetchone()
    return found[0] if found else None


def _drop_everything(conn: psycopg.Connection) -> None:
    """Drop the schemas of an earlier build (a schema at a time: one DROP of 40,000 relations needs too many locks)."""
    schemas = [row[0] for row in conn.execute(
        "SELECT nspname FROM pg_namespace WHERE nspname ~ '^s[0-9]{2,}$' OR nspname = %s", (META_SCHEMA,))]
    for schema in schemas:
        tables = [row[0] for row in conn.execute(
            "SELECT c.relname FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace "
            "WHERE n.nspname = %s AND c.relkind = 'r'", (schema,))]
        for start in range(0, len(tables), BATCH_TABLES):
            names = sql.SQL(", ").join(sql.Identifier(schema, name) for name in tables[start:start + BATCH_TABLES])
            conn.execute(sql.SQL("DROP TABLE {} CASCADE").format(names))
        conn.execute(sql.SQL("DROP SCHEMA {} CASCADE").format(sql.Identifier(schema)))


def _create_tables(conn: psycopg.Connection, tables: int, indexes_per_table: int, schemas: int) -> None:
    for schema in range(schemas):
        conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(f"s{schema:02d}")))
    for first in range(0, tables, BATCH_TABLES):
        last = min(first + BATCH_TABLES, tables) - 1
        conn.execute(CREATE_BATCH.format(first=first, last=last, schemas=schemas, rows=ROWS_PER_TABLE,
                                         indexes=indexes_per_table))


def _run_statements(conn: psycopg.Connection, statements: int, tables: int, schemas: int) -> None:
    """`statements` distinct pg_stat_statements entries, each called 1-5 times."""
    conn.execute("SELECT pg_stat_statements_reset()")
    for number in range(statements):
        table = _table_name(number % tables, schemas)
        shape = number // tables  # more statements than tables: other shapes on the same tables
        columns = COLUMN_LISTS[(number + shape) % len(COLUMN_LISTS)]
        predicate = PREDICATES[(number // len(COLUMN_LISTS) + shape) % len(PREDICATES)]
        query = sql.SQL("SELECT {} FROM {} WHERE {}").format(sql.SQL(columns), table, sql.SQL(predicate))
        for call in range(1 + number % 5):
            conn.execute(query, (call,))


def _hold_sessions(url: str, idle: int, active: int) -> list[psycopg.Connection]:
    """Idle sessions, and sessions running pg_sleep (sent without waiting for the result)."""
    sessions = []
    for _ in range(idle):
        sessions.append(psycopg.connect(url, autocommit=True, application_name="bench_idle"))
    for _ in range(active):
        conn = psycopg.connect(url, autocommit=True, application_name="bench_active")
        conn.pgconn.send_query(b"SELECT pg_sleep(86400)")
        sessions.append(conn)
    return sessions


def build_catalog(admin_url: str, database: str = "pgpulse_bench", *, tables: int = 10_000, indexes_per_table: int = 2,
                  schemas: int = 10, statements: int = 5_000, idle_connections: int = 150,
                  active_connections: int = 50) -> Catalog:
    """Build (or reuse) the catalog, fill pg_stat_statements and open the sessions; close the result when done."""
    _ensure_database(admin_url, database)
    url = database_url(admin_url, database)
    params = {"tables": tables, "indexes_per_table": indexes_per_table, "schemas": schemas, "rows": ROWS_PER_TABLE}
    started = time.perf_counter()
    with psycopg.connect(url, autocommit=True) as conn:
        conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
        if _built_params(conn) != params:
            _drop_everything(conn)
            _create_tables(conn, tables, indexes_per_table, schemas)
            conn.execute(sql.SQL("CREATE SCHEMA {}").format(sql.Identifier(META_SCHEMA)))
            conn.execute(sql.SQL("CREATE TABLE {}.params AS SELECT %s::jsonb AS params").format(
                sql.Identifier(META_SCHEMA)), (json.dumps(params),))
            conn.execute("ANALYZE")  # statistics as on a live server: the planner sees the real catalog sizes
        build_seconds = time.perf_counter() - started
        started = time.perf_counter()
        _run_statements(conn, statements, tables, schemas)
        statements_seconds = time.perf_counter() - started
    sessions = _hold_sessions(url, idle_connections, active_connections)
    return Catalog(url, {**params, "statements": statements, "idle_connections": idle_connections,
                         "active_connections": active_connections}, build_seconds, statements_seconds, sessions)
