"""EXPLAIN [ANALYZE] of one pasted statement, run so that it cannot change the database.

Layers of safety, each enough on its own for most statements:
1. PostgreSQL's own parser (pglast) must find exactly one statement of an explainable kind
   (SELECT / VALUES / TABLE, INSERT, UPDATE, DELETE, MERGE), without SELECT INTO and without
   calls to functions whose effects escape a rollback (nextval, advisory locks, signals, ...).
2. The statement is sent with the extended query protocol (PQexecParams), where the server
   itself refuses more than one command, with any $n values bound by the server.
3. It runs in one transaction that is always rolled back: READ ONLY unless it is a write the
   configuration allows to ANALYZE, with statement, lock and idle-in-transaction timeouts.
4. The connection is closed afterwards (never returned to the pool), so nothing a function
   left in the session (a session advisory lock, a temp table, a setting) outlives the call.
What no layer can see: non-transactional effects inside user-defined functions or triggers
(dblink, a sequence advanced by an ANALYZEd INSERT's DEFAULT nextval()).  The database role's
privileges are the last boundary: give the dashboard a role without superuser.

The EXPLAIN prefix is the one statement not in queries/sql/: it is assembled from the fixed
option keywords below around the checked statement, which cannot be a bind parameter.
"""
from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass, field, replace
from typing import Any

import pandas as pd
import sqlalchemy as sa

from queries.advisors.indexes import PlanAdvice, plan_index_advice
from queries.connection import server_version_num, without_passwords
from queries.errors import PgPulseError, translate
from queries.plan import PlanSummary, ast_nodes, plan_nodes, plan_summary, plan_text
from queries.sql_loader import OWN_STATEMENT_MARK, load_sql

ALLOWED_KINDS = "SELECT, VALUES, TABLE, INSERT, UPDATE, DELETE or MERGE"
_WRITE_NODES = ("InsertStmt", "UpdateStmt", "DeleteStmt", "MergeStmt")
_KIND_OF = {"SelectStmt": "SELECT", "InsertStmt": "INSERT", "UpdateStmt": "UPDATE", "DeleteStmt": "DELETE",
            "MergeStmt": "MERGE"}
# effects that a rollback does not undo, or that reach other sessions or the server's files
DENIED_FUNCTIONS = frozenset({
    "nextval", "setval", "set_config", "pg_terminate_backend", "pg_cancel_backend", "pg_reload_conf",
    "pg_rotate_logfile", "pg_switch_wal", "pg_promote", "pg_create_restore_point", "pg_stat_file",
    "pg_log_backend_memory_contexts", "pg_logical_emit_message", "pg_import_system_collations",
    "pg_drop_replication_slot", "pg_replication_slot_advance", "pg_stat_statements_reset",
    "query_to_xml", "query_to_xmlschema", "query_to_xml_and_xmlschema", "cursor_to_xml", "loread", "lowrite",
})
DENIED_PREFIXES = ("pg_advisory", "pg_try_advisory", "lo_", "dblink", "pg_read_", "pg_ls_", "pg_file_",
                   "pg_stat_reset", "pg_create_", "pg_logical_slot_", "pg_replication_origin_", "pg_backup_",
                   "pg_start_backup", "pg_stop_backup", "pg_wal_replay_", "pg_sync_replication_slots")
PLANNER_SETTINGS = frozenset({"work_mem", "random_page_cost", "max_parallel_workers_per_gather", "parallel_setup_cost",
                              "parallel_tuple_cost", "min_parallel_table_scan_size", "jit"})
# settings named by the statement's own kind when PostgreSQL's node name says too little
_REFUSED_NAMES = {"VariableSetStmt": "SET", "VariableShowStmt": "SHOW", "CreateStmt": "CREATE TABLE",
                  "IndexStmt": "CREATE INDEX", "ViewStmt": "CREATE VIEW", "CreateTableAsStmt": "CREATE TABLE AS",
                  "CreateSeqStmt": "CREATE SEQUENCE", "CreateFunctionStmt": "CREATE FUNCTION", "CopyStmt": "COPY",
                  "RenameStmt": "ALTER ... RENAME", "GrantStmt": "GRANT", "DoStmt": "DO", "CallStmt": "CALL",
                  "CheckPointStmt": "CHECKPOINT", "ExecuteStmt": "EXECUTE", "PrepareStmt": "PREPARE"}


class ExplainRefused(PgPulseError):
    kind = "refused"


class ExplainFailed(PgPulseError):
    kind = "explain_error"


@dataclass(frozen=True)
class ExplainOptions:
    """EXPLAIN options from an allow-list; planner_settings are set with set_config(..., true)."""

    analyze: bool = True
    buffers: bool = True
    verbose: bool = False
    settings: bool = False
    wal: bool = False
    serialize: bool = False  # PostgreSQL 17+
    generic_plan: bool = False  # plan without values (PREPARE + force_generic_plan), without ANALYZE
    timeout_ms: int = 10_000
    analyze_writes: bool = False  # the configuration's permission to ANALYZE data-modifying statements
    planner_settings: Mapping[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class StatementCheck:
    statement_kind: str
    is_write: bool
    has_parameters: bool
    parameter_count: int


@dataclass(frozen=True)
class ExplainResult:
    plan_json: list
    text_plan: str
    planning_ms: float | None
    execution_ms: float | None
    total_ms: float | None
    options: ExplainOptions
    statement_kind: str
    nodes: pd.DataFrame
    summary: PlanSummary
    server_version_num: int


def _refused_name(statement: Any) -> str:
    """What a refused statement is, in PostgreSQL's words (DROP TABLE, COMMIT, SELECT INTO)."""
    name = type(statement).__name__
    if name == "SelectStmt" and statement.intoClause is not None:
        return "SELECT INTO"
    if name in _KIND_OF:
        return _KIND_OF[name]
    if name == "DropStmt":
        return "DROP " + statement.removeType.name.removeprefix("OBJECT_").replace("_", " ")
    if name == "TransactionStmt":
        return statement.kind.name.removeprefix("TRANS_STMT_").replace("_", " ")
    if name == "VacuumStmt":
        return "VACUUM" if statement.is_vacuumcmd else "ANALYZE"
    if name in _REFUSED_NAMES:
        return _REFUSED_NAMES[name]
    words = "".join(f" {c}" if c.isupper() else c for c in name.removesuffix("Stmt")).split()
    return " ".join(words).upper()


def _parse(sql: str) -> tuple:
    import pglast
    from pglast.parser import ParseError

    try:
        return pglast.parse_sql(sql)
    except ParseError as exc:
        message, position = (exc.args + (None,))[:2]
        where = f" at character {position + 1}" if isinstance(position, int) else ""
        raise ExplainRefused(f"syntax error: {message}{where}") from None
    except Exception as exc:  # the parser's own limits (e.g. nesting too deep)
        raise ExplainRefused(f"the statement could not be parsed: {exc}") from None


def check_statement(sql: str) -> StatementCheck:
    """Parse with PostgreSQL's parser: exactly one explainable statement, no denied functions."""
    if "\x00" in sql:  # libpq would cut the text there: what runs must be what was checked
        raise ExplainRefused("the statement contains a NUL character")
    statements = _parse(sql)
    if len(statements) != 1:
        found = ", ".join(_refused_name(raw.stmt) for raw in statements)
        listed = f" ({found})" if found else ""
        raise ExplainRefused(f"{len(statements)} statements found{listed}; paste exactly one", kind="refused")
    statement = statements[0].stmt
    kind = _refused_name(statement)
    if kind not in _KIND_OF.values():
        raise ExplainRefused(f"{kind} is not allowed: EXPLAIN runs {ALLOWED_KINDS}")
    nodes = list(ast_nodes(statement))
    _refuse_denied_functions(nodes)
    if kind == "SELECT" and statement.valuesLists:
        kind = "VALUES"
    is_write = kind in ("INSERT", "UPDATE", "DELETE", "MERGE") or any(
        type(node).__name__ in _WRITE_NODES or getattr(node, "lockingClause", None) for node in nodes)
    params = [node.number for node in nodes if type(node).__name__ == "ParamRef"]
    return StatementCheck(statement_kind=kind, is_write=is_write, has_parameters=bool(params),
                          parameter_count=max(params, default=0))


def _refuse_denied_functions(nodes: list) -> None:
    for node in nodes:
        if type(node).__name__ != "FuncCall":
            continue
        name = getattr(node.funcname[-1], "sval", "").lower()
        if name in DENIED_FUNCTIONS or name.startswith(DENIED_PREFIXES):
            raise ExplainRefused(f"calling {name}() is not allowed here: its effect would survive the rollback "
                                 "EXPLAIN runs in, or reach other sessions")


def _option_list(options: ExplainOptions) -> str:
    """The parenthesised EXPLAIN options, written from constants only."""
    parts = ["FORMAT JSON", "SUMMARY true", f"ANALYZE {_bool(options.analyze)}", f"BUFFERS {_bool(options.buffers)}",
             f"VERBOSE {_bool(options.verbose)}", f"SETTINGS {_bool(options.settings)}"]
    if options.wal:
        parts.append("WAL true")
    if options.serialize:
        parts.append("SERIALIZE TEXT")
    return ", ".join(parts)


def _bool(value: bool) -> str:
    return "true" if value else "false"


def _check_options(options: ExplainOptions, version: int) -> None:
    if isinstance(options.timeout_ms, bool) or not isinstance(options.timeout_ms, int) or options.timeout_ms <= 0:
        raise ExplainRefused(f"timeout_ms must be a positive number of milliseconds, not {options.timeout_ms!r}")
    if options.serialize and version < 170000:
        raise ExplainRefused("SERIALIZE needs PostgreSQL 17 or newer")
    if options.generic_plan and options.analyze:
        raise ExplainRefused("a generic plan cannot be combined with ANALYZE: it has no values to run with")
    for name in ("wal", "serialize"):
        if getattr(options, name) and not options.analyze:
            raise ExplainRefused(f"{name.upper()} reports what execution did: it needs ANALYZE")
    for name in options.planner_settings:
        if name not in PLANNER_SETTINGS and not (name.startswith("enable_") and name[7:].replace("_", "").isalpha()):
            allowed = ", ".join(sorted(PLANNER_SETTINGS))
            raise ExplainRefused(f"planner setting {name!r} is not allowed; allowed: enable_*, {allowed}")


def _check_values(check: StatementCheck, options: ExplainOptions, params: list[str] | None) -> bool:
    """Whether a generic plan is needed: $n parameters without values, plain EXPLAIN."""
    if params:
        if len(params) != check.parameter_count:
            raise ExplainRefused(f"the statement has {check.parameter_count} parameter(s) ($1..${check.parameter_count}) "
                                 f"but {len(params)} value(s) were given")
        if options.generic_plan:
            raise ExplainRefused("a generic plan is planned without values: leave the parameter values empty")
        return False
    if not check.has_parameters:
        return options.generic_plan
    if options.analyze:
        raise ExplainRefused(f"ANALYZE runs the statement: give a value for each of $1..${check.parameter_count}")
    return True


def _check_write(check: StatementCheck, options: ExplainOptions) -> bool:
    """Whether the transaction must be READ WRITE: only an ANALYZEd write the configuration allows."""
    if not (check.is_write and options.analyze):
        return False
    if not options.analyze_writes:
        what = check.statement_kind if check.statement_kind != "SELECT" else "SELECT with a data-modifying WITH or FOR UPDATE"
        raise ExplainRefused(f"{what} modifies data: EXPLAIN ANALYZE of writes is allowed only when the configuration "
                             "allows it (setting allow_analyze_writes, or PGPULSE_ALLOW_ANALYZE_WRITES=true); "
                             "plain EXPLAIN (without ANALYZE) shows its plan")
    return True


def explain(engine: sa.Engine, sql: str, options: ExplainOptions = ExplainOptions(),
            params: list[str] | None = None) -> ExplainResult:
    """EXPLAIN (FORMAT JSON) one checked statement in a transaction that is always rolled back."""
    check = check_statement(sql)
    version = server_version_num(engine)
    _check_options(options, version)
    generic_plan = _check_values(check, options, params)
    writable = _check_write(check, options)
    commands = _commands(sql, options, check.parameter_count if generic_plan else 0, params or [])
    plan_json = _run(engine, commands, options, writable, generic_plan)
    nodes = _with_index_advice(engine, sql, plan_nodes(plan_json), check.parameter_count)
    nodes = without_passwords(nodes)  # a pasted filter can hold a connection string or a PASSWORD literal
    summary = plan_summary(plan_json, nodes)
    return ExplainResult(
        plan_json=plan_json, text_plan=plan_text(plan_json, nodes), planning_ms=summary.planning_ms,
        execution_ms=summary.execution_ms, total_ms=summary.total_ms,
        options=replace(options, generic_plan=generic_plan), statement_kind=check.statement_kind,
        nodes=nodes, summary=summary, server_version_num=version)


def _commands(sql: str, options: ExplainOptions, generic_parameters: int,
              params: list[str]) -> list[tuple[str, int, list[str]]]:
    """(command, where the pasted text starts in it, $n values) to send, the EXPLAIN last.

    A generic plan is the plan of a prepared statement under plan_cache_mode=force_generic_plan:
    EXPLAIN (GENERIC_PLAN) exists only on 16+ and its $n cannot be left unbound in the extended
    protocol, while bound values would be folded into the plan as constants.
    """
    # marked as pgpulse's own (pg_stat_statements keeps a comment after the first keyword): the Queries page hides them
    explain = f"EXPLAIN {OWN_STATEMENT_MARK} ({_option_list(options)}) "
    if not generic_parameters:
        return [(explain + sql, len(explain), params)]
    prepare = f"PREPARE {OWN_STATEMENT_MARK} pgpulse_explain AS "
    execute = f"EXECUTE {OWN_STATEMENT_MARK} pgpulse_explain({', '.join(['NULL'] * generic_parameters)})"
    return [(prepare + sql, len(prepare), []), (explain + execute, len(explain), [])]


def _run(engine: sa.Engine, commands: list[tuple[str, int, list[str]]], options: ExplainOptions,
         writable: bool, generic_plan: bool) -> list:
    """One dedicated connection, one transaction, rolled back and the connection closed."""
    try:
        conn = engine.connect()
    except Exception as exc:
        raise translate(exc, context="EXPLAIN") from None
    try:
        conn.begin()
        _prepare_transaction(conn, options, writable, generic_plan)
        for command in commands:
            result = _execute(conn, *command)
        return json.loads(result)
    except PgPulseError:
        raise
    except Exception as exc:
        raise translate(exc, context="EXPLAIN") from None
    finally:
        _discard(conn)


def _discard(conn: sa.Connection) -> None:
    """Roll back and close the DBAPI connection so no session state reaches the pool."""
    try:
        conn.rollback()
    except Exception:  # the connection may be broken already; closing it is what matters
        pass
    finally:
        conn.invalidate()
        conn.close()


def _prepare_transaction(conn: sa.Connection, options: ExplainOptions, writable: bool, generic_plan: bool) -> None:
    from psycopg import pq

    if not writable:
        conn.exec_driver_sql("SET TRANSACTION READ ONLY")
    timeout = int(options.timeout_ms)
    row = conn.execute(sa.text(load_sql("set_explain_limits")), {
        "statement_timeout": f"{timeout}ms", "lock_timeout": f"{min(timeout, 2000)}ms",
        "idle_timeout": f"{timeout + 5000}ms"}).mappings().one()
    settings = {**options.planner_settings, **({"plan_cache_mode": "force_generic_plan"} if generic_plan else {})}
    for name, value in settings.items():
        conn.execute(sa.text(load_sql("set_explain_setting")), {"name": name, "value": str(value)})
    # the invariants the safety rests on, checked on the server rather than assumed
    in_transaction = conn.connection.dbapi_connection.pgconn.transaction_status == pq.TransactionStatus.INTRANS
    if not in_transaction or (row["transaction_read_only"] == "on") == writable:
        raise ExplainFailed("EXPLAIN refused to run: the transaction it needs could not be opened "
                            f"(in transaction: {in_transaction}, read only: {row['transaction_read_only']})")


def _execute(conn: sa.Connection, command: str, offset: int, params: list[str]) -> str | None:
    """PQexecParams: the server refuses a second command, and binds the $n values itself."""
    from psycopg import pq

    dbapi = conn.connection.dbapi_connection
    encoding = dbapi.info.encoding
    result = dbapi.pgconn.exec_params(command.encode(encoding), [str(value).encode(encoding) for value in params])
    if result.status not in (pq.ExecStatus.TUPLES_OK, pq.ExecStatus.COMMAND_OK):
        raise _failure(result, encoding, offset)
    return result.get_value(0, 0).decode(encoding) if result.ntuples else None


def _failure(result: Any, encoding: str, offset: int) -> PgPulseError:
    """The server's error in plain words, with its SQLSTATE and the position in the pasted text."""
    from psycopg import pq

    def field_text(code: pq.DiagnosticField) -> str | None:
        value = result.error_field(code)
        return value.decode(encoding, "replace") if value else None

    sqlstate = field_text(pq.DiagnosticField.SQLSTATE)
    message = field_text(pq.DiagnosticField.MESSAGE_PRIMARY) or (result.error_message or b"").decode(encoding, "replace")
    if not sqlstate:
        return PgPulseError(f"EXPLAIN: database unreachable: {message.strip()}", kind="unreachable")
    text = f"EXPLAIN failed: {message}"
    position = field_text(pq.DiagnosticField.STATEMENT_POSITION)
    if position and position.isdigit() and int(position) > offset:
        text += f" (at character {int(position) - offset} of the statement)"
    if sqlstate == "57014":
        text += " — the statement ran longer than the EXPLAIN timeout"
    if sqlstate == "25006":
        text += " — it tried to write, and EXPLAIN runs read-only"
    hint = field_text(pq.DiagnosticField.MESSAGE_HINT)
    return ExplainFailed(f"{text}{f'. Hint: {hint}' if hint else ''} (SQLSTATE {sqlstate})", sqlstate=sqlstate)


def _with_index_advice(engine: sa.Engine, sql: str, nodes: pd.DataFrame, parameter_count: int) -> pd.DataFrame:
    """The index advisor's suggestion for each flagged Seq Scan (after EXPLAIN's connection is closed: the advisor
    uses the pool, which may hold one connection). A failure there costs the advice, never the plan."""
    try:
        advice = plan_index_advice(engine, sql, nodes, parameter_count=parameter_count)
    except PgPulseError as exc:
        failed = PlanAdvice(None, f"the index advice could not be read: {exc}")
        advice = {node_id: failed for node_id in nodes.loc[nodes["index_columns"].map(bool), "node_id"]}
    # object dtype keeps None for "no suggestion" (pandas would make it NaN next to strings)
    return nodes.assign(
        index_suggestion=pd.Series([advice[n].create_index if n in advice else None for n in nodes["node_id"]],
                                   index=nodes.index, dtype=object),
        index_advice=pd.Series([advice[n].reason if n in advice else None for n in nodes["node_id"]],
                               index=nodes.index, dtype=object))
