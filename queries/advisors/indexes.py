"""Suggested indexes for the statements taking the time, checked against the planner with HypoPG where installed.

From the top statements by total time (pg_stat_statements), pglast reads each table's predicates: equality,
IN / ANY and join keys first (ordered by pg_stats' n_distinct, the most selective first), then one range,
BETWEEN, prefix LIKE or ORDER BY-with-LIMIT column. Candidates that lead another of the same table merge into
it; a constant predicate every statement of a candidate shares (deleted_at IS NULL, NOT is_deleted, is_published, or
`is_deleted = $1`, which pg_stat_statements shows for `= false`: taken as the column's most common value from pg_stats
and written into the text the plans are costed on) makes it partial, costed against the full index of the same
columns: the partial one is kept when it is no costlier and smaller, else the full one. None is
suggested where a valid index already starts with the same columns. A leading-wildcard LIKE or any ILIKE (the
pattern is a $n in pg_stat_statements: it may start with %) gets a pg_trgm GIN index, never a B-tree.

HypoPG's hypothetical indexes live in this backend's memory only: they need no write and work inside a READ
ONLY transaction. Each statement's generic plan (PREPARE under plan_cache_mode = force_generic_plan, as the
Explain page plans a statement without values, on every version) is costed without and with the index; an
index is kept when it cuts the cost of a statement costing at least 100 by half or more (Dexter's rule).
HypoPG cannot simulate GIN: trigram suggestions stay unverified. Everything here is text: nothing is created.
"""
from __future__ import annotations

import itertools
import json
from dataclasses import dataclass, field, replace

import pandas as pd
import sqlalchemy as sa

from queries.advisors.catalog import Catalog, Statement, TableKey, read_catalog, statements_by_text, table_label
from queries.advisors.shape import (
    EQUALITY,
    FLAG,
    IN_LIST,
    INDEXABLE,
    IS_NULL,
    JOIN,
    ORDER,
    PREFIX,
    RANGE,
    WILDCARD,
    Predicate,
    Shape,
    TableRef,
    bound_text,
    filter_predicates,
)
from queries.connection import fetch_row, fetch_row_in, read_only, server_version_num
from queries.errors import PgPulseError
from queries.sql_loader import OWN_STATEMENT_MARK, load_sql
from queries.statements import statements

COLUMNS = ("table_name", "create_index", "statements", "cost_before", "cost_after", "verified", "estimated_size_bytes",
           "reason", "time_saved_ms", "writes_per_second", "queries", "full_index_cost_after", "full_index_size_bytes")
# the constant predicates a partial index is built from
PARTIAL_TESTS = ("IS NULL", "= true", "= false", "IS TRUE", "IS FALSE")
PARTIAL_COST_MARGIN = 1.05  # a partial index costing at most 5 % more than the full one still wins when smaller
NOT_VERIFIED = "not verified: install hypopg to check them"
MAX_BTREE_WIDTH = 500  # bytes (pg_stats avg_width): wider values make a B-tree large and slow (2,704-byte limit per entry)
MAX_COLUMNS = 3
_PREPARED_NAMES = itertools.count(1)  # a fresh name per PREPARE: a failed EXPLAIN may leave its statement behind


@dataclass
class Candidate:
    table: TableKey
    columns: tuple[str, ...]
    method: str  # "btree" or "gin"
    predicate: frozenset[tuple[str, str]]  # (column, test) shared by every statement served
    served: list[Statement] = field(default_factory=list)
    kinds: dict[str, str] = field(default_factory=dict)  # column -> how the statements use it
    assumed: dict[str, dict[int, bool]] = field(default_factory=dict)  # statement text -> $n -> boolean taken for it
    notes: tuple[str, ...] = ()  # how each hidden boolean was taken


@dataclass(frozen=True)
class Costing:
    before: float
    after: float
    statement: Statement


def suggested_indexes(engine: sa.Engine, *, statement_limit: int = 100, min_rows: int = 10_000,
                      min_cost: float = 100.0, min_saving: float = 0.5,
                      statements_frame: pd.DataFrame | None = None) -> pd.DataFrame:
    """CREATE INDEX statements (as text) for the top statements by total time, from pg_stat_statements, the catalog
    and pg_stats, verified with HypoPG's hypothetical indexes when the extension is installed. `statements_frame`: the
    statements to advise on instead of pg_stat_statements' since its reset (e.g. queries.history.reads'
    statements_over_range: what ran in a time range), the top statement_limit by total time taken."""
    top = statements_by_text(_top_by_time(engine, statements_frame, statement_limit))
    catalog = read_catalog(engine)
    candidates = _merged([c for statement in top for c in _candidates(statement, catalog, min_rows)])
    candidates = [c for c in candidates if not _covered(c, catalog)]
    extensions = fetch_row(engine, "select_advisor_extensions")
    rows = _rows(engine, candidates, catalog, extensions, min_cost, min_saving)
    frame = pd.DataFrame(rows, columns=list(COLUMNS))
    return frame.sort_values(["time_saved_ms", "table_name", "create_index"], ascending=[False, True, True],
                             ignore_index=True, na_position="last") if rows else frame


def _top_by_time(engine: sa.Engine, frame: pd.DataFrame | None, limit: int) -> pd.DataFrame:
    if frame is None:
        return statements(engine, sort_by="total_exec_time_ms", limit=limit)
    return frame.sort_values("total_exec_time_ms", ascending=False, kind="stable").head(limit)


# ---- candidates from statements ------------------------------------------------------------------------------------

def _distinct(catalog: Catalog, table: TableKey, column: str) -> float:
    """pg_stats' n_distinct as a count of values (negative: a share of the rows); 0 when unknown."""
    row = catalog.column(table, column)
    if row is None or pd.isna(row["n_distinct"]):
        return 0.0
    n_distinct = float(row["n_distinct"])
    return n_distinct if n_distinct > 0 else -n_distinct * float(row["estimated_rows"] or 0)


def _too_wide(catalog: Catalog, table: TableKey, column: str) -> bool:
    row = catalog.column(table, column)
    return row is not None and not pd.isna(row["avg_width"]) and row["avg_width"] > MAX_BTREE_WIDTH


def _candidates(statement: Statement, catalog: Catalog, min_rows: int) -> list[Candidate]:
    if statement.shape is None:
        return []
    found = []
    for table, predicates in catalog.predicates_by_table(statement.shape).items():
        if catalog.estimated_rows(table) < min_rows:
            continue
        predicates, assumed, notes = _hidden_flags(predicates, table, catalog)
        extra = {"assumed": {statement.query: assumed} if assumed else {}, "notes": notes}
        shared = frozenset((p.column, p.constant) for p in predicates if p.constant in PARTIAL_TESTS)
        wildcards = list(dict.fromkeys(p.column for p in predicates if p.kind == WILDCARD))
        for column in wildcards:
            found.append(Candidate(table, (column,), "gin", shared, [statement], {column: WILDCARD}, **extra))
        btree = _btree(predicates, table, catalog)
        # a sort alone next to a wildcard filter: the trigram index does the filtering, the few rows left sort fast
        if btree and not (wildcards and set(btree.values()) == {ORDER}):
            found.append(Candidate(table, tuple(btree), "btree", shared, [statement], btree, **extra))
    return found


def _hidden_flags(predicates: list[Predicate], table: TableKey,
                  catalog: Catalog) -> tuple[list[Predicate], dict[int, bool], tuple[str, ...]]:
    """`is_deleted = $1` on a boolean column: pg_stat_statements hid the `false`. Taken as the column's most common
    value (a soft delete's filter keeps the live rows, most of them), so it can carry a partial index."""
    kept, assumed, notes = [], {}, []
    for predicate in predicates:
        row = catalog.column(table, predicate.column)
        usable = (predicate.kind == EQUALITY and predicate.parameter and row is not None
                  and row["data_type"] == "boolean" and row.get("most_common_value") in ("t", "f"))
        if not usable:
            kept.append(predicate)
            continue
        value = row["most_common_value"] == "t"
        assumed[predicate.parameter] = value
        kept.append(replace(predicate, kind=FLAG, constant=f"= {'true' if value else 'false'}"))
        notes.append(f"{predicate.column} = ${predicate.parameter} taken as {'true' if value else 'false'}, the value "
                     f"of {row['most_common_freq'] * 100:.0f} % of the rows in pg_stats")
    return kept, assumed, tuple(notes)


def _btree(predicates: list[Predicate], table: TableKey, catalog: Catalog) -> dict[str, str]:
    """column -> kind: the equality columns, most selective first, then one range or sort column."""
    constant = {p.column for p in predicates if p.constant}
    usable = [p for p in predicates if p.column not in constant and not _too_wide(catalog, table, p.column)]
    equal = {p.column: p.kind for p in usable if p.kind in (EQUALITY, IN_LIST, JOIN)}
    ordered = sorted(equal, key=lambda column: -_distinct(catalog, table, column))
    columns = {column: equal[column] for column in ordered}
    ranges = [p for p in usable if p.kind in (RANGE, PREFIX, ORDER) and p.column not in columns]
    if ranges and len(columns) < MAX_COLUMNS:
        columns[ranges[0].column] = ranges[0].kind
    return dict(list(columns.items())[:MAX_COLUMNS])


def _merged(candidates: list[Candidate]) -> list[Candidate]:
    """One index for the statements one can serve: a candidate leading a longer one of the same table merges into it."""
    kept: list[Candidate] = []
    for candidate in sorted(candidates, key=lambda c: (-len(c.columns), c.table, c.method, c.columns)):
        into = next((k for k in kept if (k.table, k.method) == (candidate.table, candidate.method)
                     and k.columns[:len(candidate.columns)] == candidate.columns), None)
        if into is None:
            kept.append(replace(candidate, served=list(candidate.served), kinds=dict(candidate.kinds),
                                assumed=dict(candidate.assumed)))
            continue
        into.predicate &= candidate.predicate
        into.assumed.update(candidate.assumed)
        into.notes = tuple(dict.fromkeys((*into.notes, *candidate.notes)))
        into.served += [s for s in candidate.served if s not in into.served]
        for column, kind in candidate.kinds.items():
            into.kinds.setdefault(column, kind)
    return kept


def _covered(candidate: Candidate, catalog: Catalog) -> bool:
    """A valid index of the same method already starting with the candidate's columns, whole or partial on a
    predicate every statement served also filters; or equality on a unique key (one row per lookup already)."""
    equal = {c for c, kind in candidate.kinds.items() if kind in (EQUALITY, IN_LIST, JOIN)}
    if candidate.method == "btree" and any(set(key) <= equal for key in catalog.unique_keys(candidate.table)):
        return True
    wanted = {f"{column} {test}".lower() for column, test in candidate.predicate}
    for row in catalog.table_indexes(candidate.table):
        leading = tuple(row["key_columns"][:len(candidate.columns)])
        usable = not row["is_partial"] or _predicate_terms(row["predicate"]) <= wanted
        if row["is_valid"] and row["access_method"] == candidate.method and usable and leading == candidate.columns:
            return True
    return False


def _predicate_terms(predicate: str | None) -> set[str]:
    """pg_get_expr's '((deleted_at IS NULL) AND (NOT is_deleted) AND is_published)' as {'deleted_at is null',
    'is_deleted = false', 'is_published = true'} (the planner folds `= false` into NOT, `= true` into the column)."""
    text = (predicate or "").replace("(", "").replace(")", "").lower()
    terms = {" ".join(term.split()) for term in text.split(" and ") if term.strip()}
    return {f"{term[4:]} = false" if term.startswith("not ") else f"{term} = true" if " " not in term else term
            for term in terms}


# ---- verification and rows -----------------------------------------------------------------------------------------

def _rows(engine: sa.Engine, candidates: list[Candidate], catalog: Catalog, extensions: dict,
          min_cost: float, min_saving: float, *, pasted: bool = False) -> list[dict]:
    """The candidates' rows, verified with HypoPG where it can; `pasted`: the statements are a user's text (the
    Explain page's), planned on a connection that is then closed, as Explain closes its own."""
    if not candidates:
        return []
    verify = extensions["hypopg_version"] is not None
    version = server_version_num(engine)
    rows = []
    with read_only(engine, statement_timeout_ms=10_000) as conn:
        try:
            for candidate in candidates:
                text = _create_index_text(conn, candidate, version)
                if verify and candidate.method == "btree":
                    row = _verified_row(conn, candidate, text, catalog, min_cost, min_saving, version)
                else:
                    row = _unverified_row(candidate, text, catalog, verify)
                if row is not None:
                    if candidate.method == "gin" and extensions["pg_trgm_version"] is None:
                        row["create_index"] = f"CREATE EXTENSION IF NOT EXISTS pg_trgm; {row['create_index']}"
                    rows.append(row)
        finally:
            if pasted and verify:
                conn.invalidate()  # whatever planning a user's statement left in the session goes with the connection
            elif verify:
                forget(conn)
    return rows


def forget(conn: sa.Connection) -> None:
    """Hypothetical indexes and prepared statements outlive the rollback: drop them, or drop the connection."""
    try:
        with conn.begin_nested():
            fetch_row_in(conn, load_sql("select_hypothetical_reset"))
            conn.exec_driver_sql(f"DEALLOCATE {OWN_STATEMENT_MARK} ALL")
    except Exception:  # noqa: BLE001 - a connection whose session state is unknown must not go back to the pool
        conn.invalidate()


def _create_index_text(conn: sa.Connection, candidate: Candidate, version: int) -> str:
    predicate = sorted(candidate.predicate)
    return fetch_row_in(conn, load_sql("select_create_index", version), {
        "schema_name": candidate.table[0], "table_name": candidate.table[1], "method": candidate.method,
        "opclass": "gin_trgm_ops" if candidate.method == "gin" else None, "column_names": list(candidate.columns),
        "predicate_columns": [column for column, _ in predicate], "predicate_tests": [test for _, test in predicate],
    })["create_index"]


def generic_plan(conn: sa.Connection, statement: Statement, values: dict[int, bool] | None = None) -> dict | None:
    """The top node of the statement's generic plan (with `values` written in for some $n), or None when it cannot
    be planned without values. Prepared statements outlive the transaction: forget() them after."""
    from queries.explain import _execute  # PQexecParams: one command only, errors in plain words

    query, count = bound_text(statement.query, values) if values else (statement.query, statement.shape.parameter_count)
    name = f"pgpulse_advisor_{next(_PREPARED_NAMES)}"
    execute = name + (f"({', '.join(['NULL'] * count)})" if count else "")
    try:
        with conn.begin_nested():
            conn.exec_driver_sql("SET LOCAL plan_cache_mode = force_generic_plan")
            # the text is a pg_stat_statements entry statement_shape parsed as one plain SELECT
            _execute(conn, f"PREPARE {OWN_STATEMENT_MARK} {name} AS {query}", 0, [])
            plan = _execute(conn, f"EXPLAIN {OWN_STATEMENT_MARK} (FORMAT JSON) EXECUTE {execute}", 0, [])
            _execute(conn, f"DEALLOCATE {OWN_STATEMENT_MARK} {name}", 0, [])
    except PgPulseError:
        return None
    return json.loads(plan)[0]["Plan"]


def _generic_cost(conn: sa.Connection, statement: Statement, values: dict[int, bool] | None = None) -> float | None:
    """The total cost of the statement's generic plan, or None when it cannot be planned without values."""
    plan = generic_plan(conn, statement, values)
    return None if plan is None else float(plan["Total Cost"])


@dataclass(frozen=True)
class Verdict:
    """What HypoPG said of one index over the statements it would serve."""

    text: str
    size_bytes: int
    helped: list[Costing]

    @property
    def cost_before(self) -> float:
        return sum(c.before for c in self.helped)

    @property
    def cost_after(self) -> float:
        return sum(c.after for c in self.helped)


def _verdict(conn: sa.Connection, candidate: Candidate, text: str, before: dict[int, float | None],
             min_cost: float, min_saving: float) -> Verdict | None:
    """The statements the hypothetical index cuts by min_saving or more (those costing min_cost or more), if any."""
    with conn.begin_nested():
        hypothetical = fetch_row_in(conn, load_sql("select_hypothetical_index"), {"create_index": text})
        after = {id(s): _generic_cost(conn, s, candidate.assumed.get(s.query)) for s in candidate.served}
        fetch_row_in(conn, load_sql("select_hypothetical_reset"))
    costings = [Costing(before[id(s)], after[id(s)], s) for s in candidate.served
                if before[id(s)] is not None and after[id(s)] is not None]
    helped = [c for c in costings if c.before >= min_cost and c.after <= (1 - min_saving) * c.before]
    return Verdict(text, int(hypothetical["estimated_size_bytes"]), helped) if helped else None


def _verified_row(conn: sa.Connection, candidate: Candidate, text: str, catalog: Catalog,
                  min_cost: float, min_saving: float, version: int) -> dict | None:
    before = {id(s): _generic_cost(conn, s, candidate.assumed.get(s.query)) for s in candidate.served}
    verdict = _verdict(conn, candidate, text, before, min_cost, min_saving)
    if not candidate.predicate:
        return None if verdict is None else _costed_row(candidate, verdict, catalog)
    full = replace(candidate, predicate=frozenset())
    full_verdict = _verdict(conn, full, _create_index_text(conn, full, version), before, min_cost, min_saving)
    partial_wins = verdict is not None and (full_verdict is None or (
        verdict.cost_after <= PARTIAL_COST_MARGIN * full_verdict.cost_after
        and verdict.size_bytes < full_verdict.size_bytes))
    if partial_wins:
        return _costed_row(candidate, verdict, catalog, full_verdict)
    if full_verdict is None:
        return None
    row = _costed_row(full, full_verdict, catalog)
    if verdict is not None:
        row["reason"] += (f"; the partial index {verdict.text.split(' WHERE ', 1)[1]} is not worth it: cost "
                          f"{verdict.cost_after:,.0f} at {verdict.size_bytes:,} bytes")
    return row


def _costed_row(candidate: Candidate, verdict: Verdict, catalog: Catalog, full: Verdict | None = None) -> dict:
    helped = verdict.helped
    saved = sum(c.statement.total_exec_time_ms * (1 - c.after / c.before) for c in helped)
    reason = (f"{_uses(candidate)}; verified with HypoPG: generic-plan cost {verdict.cost_before:,.0f} -> "
              f"{verdict.cost_after:,.0f} over {len(helped)} statement{'s' if len(helped) > 1 else ''}")
    if full is not None:
        reason += (f"; the full index (no WHERE) would cost {full.cost_after:,.0f} at {full.size_bytes:,} bytes, "
                   f"this one is {verdict.size_bytes:,} bytes")
    elif candidate.predicate:
        reason += "; without the WHERE the index would not halve the cost"
    row = _row(candidate, verdict.text, catalog, [c.statement for c in helped], verdict.cost_before, verdict.cost_after,
               True, verdict.size_bytes, reason, saved)
    if full is not None:
        row.update(full_index_cost_after=full.cost_after, full_index_size_bytes=full.size_bytes)
    return row


def _unverified_row(candidate: Candidate, text: str, catalog: Catalog, hypopg_installed: bool) -> dict:
    why = "not verified: HypoPG cannot simulate GIN indexes" if hypopg_installed else NOT_VERIFIED
    rows_read = catalog.estimated_rows(candidate.table)
    returned = sum(s.rows for s in candidate.served) / max(sum(s.calls for s in candidate.served), 1)
    reason = (f"{_uses(candidate)}; {why}; {returned:,.1f} rows returned per call from a table of "
              f"about {rows_read:,} rows")
    return _row(candidate, text, catalog, candidate.served, None, None, False, None, reason, None)


def _uses(candidate: Candidate) -> str:
    words = {EQUALITY: "equality", IN_LIST: "IN / ANY", JOIN: "join key", RANGE: "range", PREFIX: "prefix LIKE",
             ORDER: "ORDER BY with LIMIT", WILDCARD: "LIKE / ILIKE that may start with a wildcard (trigram)",
             IS_NULL: "IS NULL"}
    parts = [f"{words[candidate.kinds[column]]} on {column}" for column in candidate.columns]
    if candidate.predicate:
        parts.append("partial: every statement filters " + " AND ".join(f"{c} {t}" for c, t in sorted(candidate.predicate)))
        notes = [note for note in candidate.notes if any(note.startswith(f"{c} ") for c, _ in candidate.predicate)]
        parts[-1] += f" ({'; '.join(notes)})" if notes else ""
    return ", ".join(parts)


def _row(candidate: Candidate, text: str, catalog: Catalog, served: list[Statement], cost_before: float | None,
         cost_after: float | None, verified: bool, size: int | None, reason: str, saved: float | None) -> dict:
    return {"table_name": table_label(candidate.table), "create_index": text, "statements": len(served),
            "cost_before": cost_before, "cost_after": cost_after, "verified": verified, "estimated_size_bytes": size,
            "reason": reason, "time_saved_ms": saved, "writes_per_second": catalog.writes_per_second(candidate.table),
            "queries": "\n".join(s.query for s in served), "full_index_cost_after": None, "full_index_size_bytes": None}


# ---- the Explain page's suggestions ---------------------------------------------------------------------------------

@dataclass(frozen=True)
class PlanAdvice:
    """What the advisor says of one sequential scan of an explained plan."""

    create_index: str | None  # the statements to run, as text; None when no index is suggested
    reason: str  # "... verified with HypoPG: ...", "... not verified: ...", or why nothing is suggested


def plan_index_advice(engine: sa.Engine, sql: str, nodes: pd.DataFrame, *, parameter_count: int = 0,
                      min_cost: float = 100.0, min_saving: float = 0.5) -> dict[int, PlanAdvice]:
    """node_id -> the advisor's index for each Seq Scan a plan flags with a selective filter (nodes' index_columns):
    a pg_trgm GIN index for a pattern that may start with a wildcard, no B-tree on a column too wide for one or where
    an index already starts with the columns, B-trees costed with HypoPG on the statement's generic plan when the
    extension is installed (kept when they halve its cost, as on the Indexes page)."""
    scans = nodes[nodes["index_columns"].map(bool) & nodes["relation_name"].notna()]
    if scans.empty:
        return {}
    catalog = read_catalog(engine)
    extensions = fetch_row(engine, "select_advisor_extensions")
    found = {}
    for scan in scans.itertuples(index=False):
        schema = scan.schema_name if isinstance(scan.schema_name, str) else None
        table = catalog.table_of(TableRef(schema, scan.relation_name, None))
        if table is not None:
            statement = Statement(sql, (), 1, int(scan.actual_rows_total or 0), 0.0, Shape((), (), False, parameter_count))
            found[scan.node_id] = _scan_advice(engine, statement, table, scan.filter, catalog, extensions,
                                               min_cost, min_saving)
    return found


def _scan_advice(engine: sa.Engine, statement: Statement, table: TableKey, filter_text: str, catalog: Catalog,
                 extensions: dict, min_cost: float, min_saving: float) -> PlanAdvice:
    predicates = tuple(filter_predicates(filter_text))
    scanned = Statement(statement.query, (), 1, 0, 0.0, Shape((TableRef(*table, None),), predicates, False, 0))
    candidates = [replace(c, served=[statement], assumed={}) for c in _candidates(scanned, catalog, 0)]
    uncovered = [c for c in candidates if not _covered(c, catalog)]
    kept = {id(c): _rows(engine, [c], catalog, extensions, min_cost, min_saving, pasted=True) for c in uncovered}
    rows = [row for c in uncovered for row in kept[id(c)]]
    notes = [f"no B-tree on {column}: its values average {int(catalog.column(table, column)['avg_width']):,} bytes "
             f"(pg_stats), too wide for one" for column in dict.fromkeys(
                 p.column for p in predicates if p.kind in INDEXABLE and p.kind != WILDCARD)
             if _too_wide(catalog, table, column)]
    notes += [f"checked with HypoPG: an index on ({', '.join(c.columns)}) would not halve this statement's "
              "generic-plan cost" for c in uncovered if not kept[id(c)]]
    notes += [f"{table_label(table)} has an index starting with ({', '.join(c.columns)}): the planner chose not to "
              "use it" for c in candidates if c not in uncovered]
    if rows:
        return PlanAdvice("; ".join(row["create_index"] for row in rows), "; ".join([row["reason"] for row in rows] + notes))
    return PlanAdvice(None, "; ".join(notes) or "no index serves this filter")
