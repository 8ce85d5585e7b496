"""Every column a page shows, in people's words with its unit, and how its values read.

One registry for every table (components.table_with_csv applies it): the data layer's snake_case names with units
(`total_exec_time_ms`, `size_bytes`) become headers ("Total time", "Size") and values read "1 min 10 s", "12.4 MB",
"99.3 %", "12,345". The CSV downloads keep the data layer's names and raw numbers. A name not listed here gets its
kind from its suffix and a label made from its words, so a new column never shows raw; tests/test_columns.py checks
that every column the pages show is listed.
"""
from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd
import streamlit as st

from dashboard.formatting import human_bytes, human_duration

MISSING = "–"


@dataclass(frozen=True)
class Column:
    label: str
    kind: str = "text"  # a key of FORMATTERS, or text / sql / bool / time / moment (a time to the second)
    help: str | None = None
    width: str | None = None  # "medium" where the grid's own sizing would clip short values (a setting's value)


def _number(value: Any) -> float | None:
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    try:
        number = float(value)
    except (TypeError, ValueError):
        return None
    return None if math.isnan(number) else number


def _guarded(format_number: Callable[[float], str]) -> Callable[[Any], str]:
    def formatted(value: Any) -> str:
        number = _number(value)
        if number is None:
            return MISSING if value is None or value is pd.NA or _is_nan(value) else str(value)
        return format_number(number)
    return formatted


def _is_nan(value: Any) -> bool:
    return isinstance(value, float) and math.isnan(value)


def _plain(number: float) -> str:
    """12,345 for whole numbers, 12.35 otherwise: never float noise like 87.04299999999999."""
    if number == int(number):
        return f"{int(number):,}"
    return f"{number:,.2f}".rstrip("0").rstrip(".") if abs(number) < 100 else f"{number:,.1f}"


FORMATTERS: dict[str, Callable[[Any], str]] = {
    "bytes": _guarded(human_bytes),
    "ms": _guarded(lambda ms: human_duration(ms / 1000)),
    "us": _guarded(lambda us: human_duration(us / 1_000_000)),
    "seconds": _guarded(human_duration),
    "ratio": _guarded(lambda ratio: f"{ratio * 100:.1f} %"),
    "hit_ratio": _guarded(lambda ratio: f"{ratio * 100:.2f} %"),  # hit ratios differ in the 99s
    "percent": _guarded(lambda share: f"{share:.1f} %"),
    "count": lambda value: f"{value:,}" if isinstance(value, int | np.integer) else _guarded(lambda n: f"{round(n):,}")(value),
    "number": _guarded(_plain),
    "times": _guarded(lambda ratio: f"{ratio:,.1f}×"),  # a factor: "2.5×" slower
    "cost": _guarded(lambda cost: f"{cost:,.0f}"),  # planner cost units: whole numbers are precise enough
}
WIDE = {"sql", "long"}  # kinds shown in a wide column

_SCHEMA, _TABLE, _INDEX = Column("Schema"), Column("Table"), Column("Index")
COLUMNS: dict[str, Column] = {
    # statements (pg_stat_statements)
    "queryid": Column("Query id"),
    "query": Column("Statement", "sql"),
    # sqlcommenter tags of a statement's text (queries/advisors/sqlcommenter.py)
    "route": Column("Route", help="the route='...' tag of the statement's sqlcommenter comment"),
    "controller": Column("Controller"),
    "action": Column("Action"),
    "file": Column("Source file"),
    "comment_tags": Column("Comment tags", "long", "every key=value of the statement's sqlcommenter comment"),
    "user_name": Column("User"),
    "database_name": Column("Database"),
    "toplevel": Column("Top level", "bool"),
    "calls": Column("Calls", "count"),
    "total_exec_time_ms": Column("Total time", "ms"),
    "mean_exec_time_ms": Column("Mean time", "ms"),
    "max_exec_time_ms": Column("Max time", "ms"),
    "total_plan_time_ms": Column("Planning time", "ms"),
    "rows": Column("Rows", "count"),
    "rows_per_call": Column("Rows / call", "number"),
    "shared_blks_hit": Column("Blocks from cache", "count", "shared buffers found in PostgreSQL's cache (8 kB each)"),
    "shared_blks_read": Column("Blocks read", "count", "shared buffers read from disk or the OS cache (8 kB each)"),
    "hit_ratio": Column("Cache hit ratio", "hit_ratio"),
    "blk_read_time_ms": Column("Read time", "ms"),
    "blk_write_time_ms": Column("Write time", "ms"),
    "io_time_ms": Column("I/O time", "ms"),
    "temp_blks_read": Column("Temp blocks read", "count"),
    "temp_blks_written": Column("Temp blocks written", "count"),
    "wal_bytes": Column("WAL written", "bytes"),
    "percent_of_total_time": Column("Share of time", "percent"),
    "explain": Column("Explain"),
    "history": Column("History"),
    # statements over a time range (the history store)
    "calls_per_s_trend": Column("Calls/s trend", "text", "one bar per part of the range, the newest figure last; "
                                                         "a blank where nothing was collected"),
    "time_share_ratio": Column("Share of time", "ratio"),
    "change": Column("Change"),
    "wal_records": Column("WAL records", "count"),
    "first_seen_at": Column("First seen", "time"),
    "mean_time_ratio": Column("Slower by", "times", "mean time in this range / mean time in the window of the same "
                                                    "length before it"),
    "previous_mean_exec_time_ms": Column("Mean time before", "ms", "in the window of the same length before the range"),
    # N+1 suspects
    "loader_option": Column("Fix (names guessed)", width="medium"),
    "foreign_key": Column("Foreign key"),
    "calls_per_parent_call": Column("Calls per parent call", "number"),
    "parent_query": Column("Parent statement", "sql"),
    "hint": Column("Hint", "long"),
    # suggested indexes
    "create_index": Column("Suggested index (not executed)", "sql"),
    "statements": Column("Statements served", "count"),
    "cost_before": Column("Cost before", "cost", "the planner's estimated cost of the statements, in its units"),
    "cost_after": Column("Cost after", "cost", "with the index in place (a HypoPG hypothetical index)"),
    "time_saved_ms": Column("Time saved (estimate)", "ms",
                            "the statements' time since the statistics reset, scaled by the cost the index saves"),
    "estimated_size_bytes": Column("Index size (estimate)", "bytes"),
    "full_index_cost_after": Column("Full index: cost after", "cost", "the same index without its WHERE clause"),
    "full_index_size_bytes": Column("Full index: size", "bytes"),
    "writes_per_second": Column("Table writes / s", "number", "rows inserted, updated and deleted per second: each "
                                                            "index makes them slower"),
    "queries": Column("Statements", "long"),
    # health checks
    "check": Column("Check"),
    "status": Column("Status"),
    "value": Column("Value", "number"),
    "threshold": Column("Threshold", "number"),
    "detail": Column("Detail", "long"),
    "page": Column("Page"),
    # activity
    "pid": Column("PID"),
    "session": Column("Session (PID)"),
    "average_sessions": Column("Average sessions", "number", help="samples that found it / samples taken then"),
    "query_id": Column("Query id"),
    "sampled_at": Column("Sampled at", "time"),
    "blocking_pid": Column("Blocked by PID"),
    "blocked_by": Column("Blocked by"),
    "depth": Column("Depth", "count"),
    "path": Column("Chain"),
    "lock_mode": Column("Lock mode"),
    "locktype": Column("Lock type"),
    "relation": Column("Relation"),
    "wait_seconds": Column("Waiting for", "seconds"),
    "application_name": Column("Application"),
    "client_addr": Column("Client address"),
    "client_name": Column("Client name"),
    "state": Column("State"),
    "wait_event_type": Column("Wait type"),
    "wait_event": Column("Wait event"),
    "wait": Column("Wait", help="wait event type: wait event; running (CPU) when active without a wait"),
    "backend_count": Column("Backends", "count"),
    "backend_start": Column("Connected at", "time"),
    "xact_start": Column("Transaction started", "time"),
    "query_start": Column("Query started", "time"),
    "state_change": Column("State since", "time"),
    "query_seconds": Column("Query running for", "seconds"),
    "xact_seconds": Column("Transaction open for", "seconds"),
    "idle_seconds": Column("Idle for", "seconds"),
    "backend_xid": Column("Transaction id"),
    "last_query": Column("Last statement", "sql"),
    "backend_type": Column("Backend type"),
    "operation": Column("Operation"),
    "phase": Column("Phase"),
    "progress_ratio": Column("Progress", "ratio"),
    "started_seconds": Column("Running for", "seconds"),
    # space
    "schema_name": _SCHEMA,
    "table_name": _TABLE,
    "index_name": _INDEX,
    "heap_bytes": Column("Table data", "bytes"),
    "toast_bytes": Column("TOAST", "bytes", "out-of-line storage of long values"),
    "index_bytes": Column("Indexes", "bytes"),
    "total_bytes": Column("Total size", "bytes"),
    "size_bytes": Column("Size", "bytes"),
    "estimated_rows": Column("Rows (estimate)", "count"),
    "idx_scan": Column("Index scans", "count"),
    # indexes
    "index_scans": Column("Index scans", "count"),
    "stats_reset_seconds": Column("Statistics age", "seconds", "time since the statistics were last reset"),
    "reason": Column("Why", "long"),
    "fix_sql": Column("Fix (not executed)", "sql"),
    "covering_index_name": Column("Covered by"),
    # what-if drop (HypoPG's hypopg_hide_index)
    "flagged_as": Column("Flagged as"),
    "statements_replanned": Column("Statements re-planned", "count"),
    "statements_worse": Column("Statements worse without it", "count"),
    "cost_with_index": Column("Cost with the index", "number", "planner cost of the statements, generic plans"),
    "cost_without_index": Column("Cost without it", "number", "the same with the index hidden by HypoPG"),
    "verdict": Column("Verdict", "long"),
    "index_definition": Column("Definition", "sql"),
    "covering_definition": Column("Covering definition", "sql"),
    "seq_scan": Column("Sequential scans", "count"),
    "seq_tup_read": Column("Rows read sequentially", "count"),
    "seq_scan_ratio": Column("Sequential share", "ratio"),
    "seq_tup_read_per_second": Column("Rows read sequentially per second", "number",
                                      "since the statistics reset: the tables an index would spare the most reading"),
    "idx_blks_hit": Column("Index blocks from cache", "count"),
    "idx_blks_read": Column("Index blocks read", "count"),
    # maintenance
    "live_rows": Column("Live rows", "count"),
    "dead_rows": Column("Dead rows", "count"),
    "dead_row_ratio": Column("Dead share", "ratio"),
    "last_vacuum": Column("Last vacuum", "time"),
    "last_autovacuum": Column("Last autovacuum", "time"),
    "last_analyze": Column("Last analyze", "time"),
    "last_autoanalyze": Column("Last autoanalyze", "time"),
    "vacuum_count": Column("Vacuums", "count"),
    "autovacuum_count": Column("Autovacuums", "count"),
    "analyze_count": Column("Analyzes", "count"),
    "autoanalyze_count": Column("Autoanalyzes", "count"),
    "rows_modified_since_analyze": Column("Rows changed since analyze", "count"),
    "autovacuum_threshold_rows": Column("Autovacuum threshold (rows)", "count"),
    "past_autovacuum_threshold": Column("Past threshold", "bool"),
    "autovacuum_enabled": Column("Autovacuum on", "bool"),
    "analyze_threshold_rows": Column("Analyze threshold (rows)", "count",
                                     "autovacuum_analyze_threshold + autovacuum_analyze_scale_factor x rows, the "
                                     "table's own settings first"),
    "modified_ratio": Column("Changed share", "ratio", "rows changed since the last ANALYZE against the table's rows"),
    "last_analyzed": Column("Last analyzed", "time", "the newest ANALYZE, manual or automatic"),
    "misestimated_statements": Column("Misestimated statements", "count",
                                      "statements reading the table whose generic plan's rows are off 10x or more"),
    "worst_misestimate_factor": Column("Worst estimate off by", "number", "times, rows per call against the plan's"),
    "worst_statement": Column("Worst-estimated statement", "sql"),
    "age_xids": Column("Transaction-ID age", "count"),
    "mxid_age": Column("Multixact age", "count"),
    "autovacuum_freeze_max_age": Column("Freeze max age", "count"),
    "xids_until_wraparound": Column("IDs left before wraparound", "count"),
    "percent_towards_wraparound": Column("Towards wraparound", "percent"),
    "percent_towards_freeze_max_age": Column("Towards forced freeze", "percent",
                                             "share of autovacuum_freeze_max_age used: anti-wraparound vacuum starts at 100 %"),
    "table_kind": Column("Kind"),
    "toast_of": Column("TOAST of"),
    "sequence_name": Column("Sequence"),
    "sequence_schema": Column("Sequence schema"),
    "data_type": Column("Type"),
    "sequence_data_type": Column("Sequence type"),
    "last_value": Column("Last value", "count"),
    "min_value": Column("Minimum", "count"),
    "max_value": Column("Maximum", "count"),
    "type_max_value": Column("Type maximum", "count"),
    "increment_by": Column("Increment", "count"),
    "cycles": Column("Cycles", "bool"),
    "used_ratio": Column("Used", "ratio"),
    "values_remaining": Column("Values left", "count"),
    "owned_by": Column("Owned by"),
    "column_name": Column("Column"),
    "is_identity": Column("Identity", "bool"),
    "sequence_fix_sql": Column("Sequence fix (not executed)", "sql"),
    # cache
    "heap_blks_hit": Column("Table blocks from cache", "count"),
    "heap_blks_read": Column("Table blocks read", "count"),
    "heap_hit_ratio": Column("Table hit ratio", "hit_ratio"),
    "idx_hit_ratio": Column("Index hit ratio", "hit_ratio"),
    "toast_blks_hit": Column("TOAST blocks from cache", "count"),
    "toast_blks_read": Column("TOAST blocks read", "count"),
    "toast_hit_ratio": Column("TOAST hit ratio", "hit_ratio"),
    "total_blks_read": Column("Blocks read in all", "count"),
    # redis
    "db": Column("Database"),
    "keys": Column("Keys", "count"),
    "expires": Column("Keys with a TTL", "count"),
    "avg_ttl_ms": Column("Mean TTL", "ms"),
    "namespace": Column("Key namespace"),
    "sampled_keys": Column("Keys sampled", "count"),
    "estimated_keys": Column("Keys (estimate)", "count"),
    "memory_bytes": Column("Memory", "bytes"),
    "avg_memory_bytes": Column("Memory per key", "bytes"),
    "keys_with_ttl": Column("With TTL", "count"),
    "keys_without_ttl": Column("Without TTL", "count"),
    "min_ttl_seconds": Column("Shortest TTL", "seconds"),
    "median_ttl_seconds": Column("Median TTL", "seconds"),
    "max_ttl_seconds": Column("Longest TTL", "seconds"),
    "command": Column("Command"),
    "usec_total": Column("Total time", "us"),
    "usec_per_call": Column("Mean time", "us"),
    "rejected_calls": Column("Rejected", "count"),
    "failed_calls": Column("Failed", "count"),
    "id": Column("Id"),
    "started_at": Column("Started at", "time"),
    "duration_us": Column("Duration", "us"),
    # settings
    "name": Column("Setting"),
    "setting": Column("Raw value"),
    "unit": Column("Unit of raw value"),
    "value_display": Column("Value", width="medium"),
    "category": Column("Category"),
    "source": Column("Set by", width="medium"),
    "boot_val": Column("Default (raw)"),
    "reset_val": Column("Reset value (raw)"),
    "is_default": Column("Default", "bool"),
    "pending_restart": Column("Needs restart", "bool"),
    # setting changes over time (the history store)
    "changed_at": Column("Seen at", "moment", help="the collection that saw the change"),
    "changed_after": Column("Changed after", "moment", help="the collection before: the change happened in between"),
    "old_value": Column("Old value"),
    "new_value": Column("New value"),
    # replication (pg_stat_replication, pg_replication_slots, pg_stat_wal_receiver); LSNs as PostgreSQL writes them
    "sync_state": Column("Sync state"),
    "sync_priority": Column("Sync priority", "count"),
    "sent_lsn": Column("Sent up to (LSN)"),
    "write_lsn": Column("Written up to (LSN)"),
    "flush_lsn": Column("Flushed up to (LSN)"),
    "replay_lsn": Column("Replayed up to (LSN)"),
    "send_lag_bytes": Column("Not yet sent", "bytes", "WAL written here that the standby has not received"),
    "lag_bytes": Column("Not yet replayed", "bytes", "WAL written here that the standby has not replayed"),
    "write_lag_seconds": Column("Write lag", "seconds"),
    "flush_lag_seconds": Column("Flush lag", "seconds"),
    "replay_lag_seconds": Column("Replay lag", "seconds"),
    "last_reply_age_seconds": Column("Since last reply", "seconds"),
    "connected_seconds": Column("Connected for", "seconds"),
    "slot_name": Column("Slot"),
    "slot_type": Column("Slot type"),
    "plugin": Column("Decoding plugin"),
    "database": Column("Database"),
    "active": Column("Active", "bool"),
    "active_pid": Column("Active PID"),
    "temporary": Column("Temporary", "bool"),
    "restart_lsn": Column("Restart LSN", help="the oldest WAL this slot keeps"),
    "confirmed_flush_lsn": Column("Confirmed flush LSN", help="what the logical consumer has confirmed"),
    "retained_wal_bytes": Column("WAL retained", "bytes"),
    "wal_status": Column("WAL status", help="reserved, extended, unreserved (about to be lost) or lost"),
    "safe_wal_size_bytes": Column("Safe WAL size", "bytes", "WAL that can still be written before this slot is "
                                                           "invalidated (max_slot_wal_keep_size)"),
    "inactive_since": Column("Inactive since", "time"),
    "sender_host": Column("Primary host"),
    "sender_port": Column("Primary port"),
    "received_tli": Column("Timeline received"),
    "receive_start_lsn": Column("Receiving since (LSN)"),
    "written_lsn": Column("Written up to (LSN)"),
    "flushed_lsn": Column("Flushed up to (LSN)"),
    "latest_end_lsn": Column("Last reported (LSN)"),
    "last_message_age_seconds": Column("Since last message", "seconds"),
    "message_transit_seconds": Column("Message transit", "seconds"),
    "latest_end_age_seconds": Column("Since last position report", "seconds"),
    "short_desc": Column("Description", "long"),
    # fleet (one row per target, from the history store)
    "target": Column("Target"),
    "fleet_status": Column("Status", "long"),
    "server_version": Column("Version"),
    "uptime_s": Column("Uptime", "seconds"),
    "transactions_per_s": Column("Transactions / s", "number", "over the last 5 minutes collected"),
    "transactions_per_s_trend": Column("Transactions / s, last hour", help="one bar per 2 minutes, the newest last; "
                                       "a blank where nothing was collected"),
    "average_active_sessions": Column("Active sessions", "number", "average over the last 5 minutes sampled"),
    "connections_of_max": Column("Connections / max", help="client connections on the server against max_connections"),
    "connection_ratio": Column("Connections used", "ratio"),
    "replication_lag_s": Column("Replication lag", "seconds", "a primary: its slowest standby's replay lag; "
                                "a standby: its own"),
    "oldest_xact_age_s": Column("Oldest transaction", "seconds", "the longest-open transaction in this database"),
    "wraparound_ratio": Column("Towards wraparound", "ratio", "age(datfrozenxid) / 2^31: at 100 % writes stop"),
    "failing_checks": Column("Failing checks", "count", "health checks warning; listed with links below"),
    "checked_age_s": Column("Last checked", "seconds", "since the collector last tried the server"),
    "figures_age_s": Column("Server figures age", "seconds", "version, uptime, connections, transactions, "
                            "wraparound, lag: read this long ago"),
    "rates_age_s": Column("Rates age", "seconds", "transactions / s and the cache hit ratio: last collected this long ago"),
    "load_age_s": Column("Sessions age", "seconds", "active sessions: last sampled this long ago"),
    "checks_age_s": Column("Checks age", "seconds", "health checks: judged this long ago"),
    "open": Column("Target", help="opens the target's pages"),
}

# space and index use over a range (history)
COLUMNS.update({
    "kind": Column("Kind"),
    "relation_name": Column("Table or index"),
    "growth_bytes": Column("Growth", "bytes", "size at the range's last size collection minus at its first"),
    "growth_bytes_per_day": Column("Growth per day", "bytes", "over the range, at its average rate"),
    "days_to_double": Column("Days to double", "number", "at the range's growth rate; blank when it does not grow"),
    "start_size_bytes": Column("Size at start", "bytes"),
    "measured_from": Column("Measured from", "time"),
    "measured_to": Column("Measured to", "time"),
    "droppable": Column("Droppable", "bool", "no unique, primary-key or constraint duty"),
    "counted_from": Column("Scans counted from", "time"),
    "counted_to": Column("Scans counted to", "time"),
    "estimated": Column("Estimated", "bool", "sizes from page counts (relpages): the exact read timed out"),
})

# a column not listed: its unit from its suffix, so it still reads right
_SUFFIX_KINDS = (("_bytes", "bytes"), ("_ms", "ms"), ("_us", "us"), ("_seconds", "seconds"), ("_ratio", "ratio"),
                 ("_percent", "percent"), ("_count", "count"), ("_rows", "count"), ("_sql", "sql"))


def describe(name: str) -> Column:
    """The registry's entry, or one made from the name (suffix -> unit, words -> label)."""
    if name in COLUMNS:
        return COLUMNS[name]
    for suffix, kind in _SUFFIX_KINDS:
        if name.endswith(suffix):
            stem = name.removesuffix(suffix) if kind not in ("count", "sql") else name
            return Column(_words(stem), kind)
    return Column(_words(name))


def _words(name: str) -> str:
    text = str(name).replace("_", " ").strip()
    return text[:1].upper() + text[1:]


def _time_text(value: Any, seconds: bool = False) -> str:
    if value is None or value is pd.NaT or (not isinstance(value, str) and pd.isna(value)):
        return MISSING
    stamp = pd.Timestamp(value)
    # to the minute: fits its column; a moment (when a setting changed) to the second
    return stamp.strftime("%Y-%m-%d %H:%M:%S" if seconds else "%Y-%m-%d %H:%M") + (" UTC" if stamp.tzinfo else "")


def _never_or(name: str) -> str:
    return "never" if name.startswith("last_") else MISSING


def display(frame: pd.DataFrame, overrides: dict | None = None) -> tuple[Any, dict]:
    """(what st.dataframe shows, its column_config): labels in words, numbers formatted for people (a Styler, so
    they still sort as numbers; st.dataframe's placeholder shows gaps as "–"). Times become text ("never" for a
    vacuum that never ran), as do integers too large for the browser's numbers."""
    overrides = overrides or {}
    shown = frame.copy()
    config: dict[str, Any] = {}
    formats: dict[str, Callable[[Any], str]] = {}
    for name in frame.columns:
        if _is_progress(overrides.get(name)):  # a bar of 0-100, so its figure reads "14.3 %" like the other ratios
            shown[name] = pd.to_numeric(shown[name], errors="coerce") * 100
            continue
        if name in overrides:  # the page draws it its own way (a link, a wider column): raw values
            continue
        column = describe(name)
        config[name] = _config(column)
        values = shown[name]
        if column.kind in FORMATTERS:
            numeric = pd.api.types.is_numeric_dtype(values) and not pd.api.types.is_bool_dtype(values)
            numbers = values if numeric else pd.to_numeric(values, errors="coerce")
            if (not numeric and numbers.notna().sum() < values.notna().sum()) or _beyond_javascript(values):
                shown[name] = [FORMATTERS[column.kind](value) for value in values]
                config[name] = _config(column, as_number=False)
            else:
                shown[name] = numbers
                formats[name] = FORMATTERS[column.kind]
        elif column.kind in ("time", "moment"):
            shown[name] = [_never_or(name) if _gap(value) else _time_text(value, column.kind == "moment")
                           for value in values]
    config.update(overrides)
    return (shown.style.format(formats) if formats else shown), config


def _beyond_javascript(numbers: pd.Series) -> bool:
    """The grid shows integers past 2**53 (a bigint sequence's maximum) raw with a warning mark: text for those."""
    if not len(numbers) or not pd.api.types.is_integer_dtype(numbers):
        return bool(len(numbers)) and numbers.map(lambda value: isinstance(value, int) and abs(value) > 2**53).any()
    top = numbers.abs().max()  # pd.NA when every value is missing
    return bool(pd.notna(top) and top > 2**53)


def _gap(value: Any) -> bool:
    return value is None or value is pd.NA or value is pd.NaT or _is_nan(value)


def _config(column: Column, as_number: bool = True):
    width = 460 if column.kind == "sql" else "large" if column.kind in WIDE else column.width  # the text explaining a row
    if column.kind in FORMATTERS:
        if not as_number:
            return st.column_config.TextColumn(column.label, help=column.help, alignment="right")
        return st.column_config.NumberColumn(column.label, help=column.help)
    if column.kind == "bool":
        return st.column_config.CheckboxColumn(column.label, help=column.help)
    return st.column_config.TextColumn(column.label, help=column.help, width=width)


def label(name: str) -> str:
    return describe(name).label


def progress(name: str):
    """A ratio column drawn as a bar, labelled from the registry; display() shows its ratio as 0-100, so the figure
    reads "14.3 %" (two decimals for hit ratios) like the same ratio in any other table."""
    column = describe(name)
    digits = 2 if column.kind == "hit_ratio" else 1
    return st.column_config.ProgressColumn(column.label, help=column.help, min_value=0.0, max_value=100.0,
                                           format=f"%.{digits}f %%")


def _is_progress(config: Any) -> bool:
    return isinstance(config, dict) and (config.get("type_config") or {}).get("type") == "progress" \
        and config["type_config"].get("max_value") == 100.0
