"""EXPLAIN (FORMAT JSON) plans as frames: one row per node, exclusive times, pev2-like flags.

Pure: a plan (PostgreSQL's JSON, already decoded) in, a DataFrame or a frozen dataclass out.

Time rules (so that exclusive_ms sums to the execution time):
- inclusive_ms = Actual Total Time x Actual Loops; below a Gather / Gather Merge PostgreSQL
  averages over every process that ran the node, so there it is divided by the number of
  processes (Workers Launched + 1 for the leader): wall-clock time, not CPU time.
- exclusive_ms = inclusive_ms minus the children's inclusive_ms.  A CTE ("CTE name" InitPlan)
  runs inside the CTE Scans that read it, and an InitPlan inside the node whose expression
  first reads its value: such a subplan is not subtracted from the node it hangs under but
  from the node(s) that ran it, so its time is counted once, in its own subtree.
- The root also carries the time the executor spent outside every node (Execution Time minus
  the root's inclusive time: startup, shutdown such as removing a sort's temp files, triggers);
  its inclusive time is then the Execution Time, so no node's own time exceeds its total.
- Negative remainders (rounding, unmatched subplans) are clamped at 0.
- Buffer counts are inclusive, as PostgreSQL reports them.

Row estimates: a node below a Limit that got every row it asked for was stopped early (the
Limit pulled no more), so its estimate for a full run is not compared with the rows it returned.
"""
from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

import pandas as pd

_GATHERS = {"Gather", "Gather Merge"}
# plan keys that hold expressions which may read an InitPlan's value
_EXPRESSION_KEYS = ("Filter", "Join Filter", "Index Cond", "Recheck Cond", "Hash Cond", "Merge Cond",
                    "One-Time Filter", "TID Cond", "Run Condition", "Output", "Sort Key", "Group Key",
                    "Function Call", "Order By", "Cache Key")
# whole numbers that may be missing (without ANALYZE or BUFFERS): nullable integers, not floats
_COUNT_COLUMNS = ("parent_id", "actual_loops", "shared_hit_blocks", "shared_read_blocks", "shared_dirtied_blocks",
                  "shared_written_blocks", "temp_read_blocks", "temp_written_blocks", "sort_space_kb", "hash_batches",
                  "original_hash_batches", "workers_planned", "workers_launched")
# nodes that read their whole input before returning a row: a Limit above them does not stop their children
_BLOCKING = {"Sort", "Hash", "Materialize", "BitmapAnd", "BitmapOr", "Bitmap Index Scan", "Bitmap Heap Scan"}
_SLOW_WORDS = ("slowest", "very slow", "slow")
_COST_WORDS = ("costliest", "very costly", "costly")
COLUMNS = [
    "node_id", "parent_id", "depth", "node_type", "label", "relation", "schema_name", "relation_name", "alias",
    "index_name", "cte_name",
    "join_type", "strategy", "parent_relationship", "subplan_name", "parallel_aware", "actual_rows",
    "actual_loops", "actual_rows_total", "plan_rows", "misestimate_factor", "misestimate_direction",
    "inclusive_ms", "exclusive_ms", "percent_of_total", "total_cost", "exclusive_cost",
    "shared_hit_blocks", "shared_read_blocks", "shared_dirtied_blocks", "shared_written_blocks",
    "temp_read_blocks", "temp_written_blocks", "io_read_ms", "io_write_ms", "rows_removed_by_filter",
    "rows_removed_by_join_filter", "rows_removed_by_index_recheck", "removed_percent", "heap_fetches",
    "sort_method", "sort_space_kb", "sort_space_type", "hash_batches", "original_hash_batches",
    "workers_planned", "workers_launched", "filter", "index_cond", "index_columns", "stopped_by_limit", "flags",
]


@dataclass(frozen=True)
class PlanSummary:
    """Whole-statement figures of one plan; the _ms and row fields are None without ANALYZE."""

    planning_ms: float | None
    execution_ms: float | None
    total_ms: float | None
    total_shared_hit_blocks: int | None
    total_shared_read_blocks: int | None
    total_temp_blocks: int | None
    root_rows: float | None
    node_count: int
    flagged_node_count: int


def _top(plan_json: Any) -> dict:
    """The statement object: EXPLAIN JSON is a one-element list holding {"Plan": ...}."""
    top = plan_json[0] if isinstance(plan_json, list) else plan_json
    return top if "Plan" in top else {"Plan": top}


def _walk(root: dict) -> list[tuple[dict, int | None, int]]:
    """(node, parent index, depth) depth-first in plan order, without recursion."""
    out: list[tuple[dict, int | None, int]] = []
    stack: list[tuple[dict, int | None, int]] = [(root, None, 0)]
    while stack:
        node, parent, depth = stack.pop()
        index = len(out)
        out.append((node, parent, depth))
        stack.extend((child, index, depth + 1) for child in reversed(node.get("Plans", ())))
    return out


def _num(node: dict, *keys: str) -> float | None:
    for key in keys:
        if key in node:
            return node[key]
    return None


def _node_type(node: dict) -> str:
    """The node name as EXPLAIN's text format prints it (Parallel Seq Scan, Partial Aggregate)."""
    name = node["Node Type"]
    if name == "ModifyTable" and node.get("Operation"):
        name = node["Operation"]
    mode = node.get("Partial Mode")
    if mode and mode != "Simple":
        name = f"{mode} {name}"
    return f"Parallel {name}" if node.get("Parallel Aware") else name


def _relation(node: dict) -> str | None:
    name = node.get("Relation Name") or node.get("CTE Name") or node.get("Function Name")
    if name and node.get("Schema"):
        return f"{node['Schema']}.{name}"
    return name


def _label(node: dict) -> str:
    label = _node_type(node)
    if node.get("Index Name"):
        label += f" using {node['Index Name']}"
    relation = _relation(node)
    return f"{label} on {relation}" if relation else label


def _processes(walked: list[tuple[dict, int | None, int]]) -> list[int]:
    """How many processes share each node's loops: workers + leader below a Gather, else 1."""
    processes = [1] * len(walked)
    for index, (_, parent, _) in enumerate(walked):
        if parent is None:
            continue
        parent_node = walked[parent][0]
        if parent_node["Node Type"] in _GATHERS:
            processes[index] = int(parent_node.get("Workers Launched") or 0) + 1
        else:
            processes[index] = processes[parent]
    return processes


def _inclusive(node: dict, processes: int) -> float | None:
    if "Actual Total Time" not in node:
        return None
    return node["Actual Total Time"] * node.get("Actual Loops", 1) / processes


def _initplan_tokens(node: dict) -> list[re.Pattern] | None:
    """How other nodes' expressions refer to this subplan: None unless it is a non-CTE InitPlan."""
    name = node.get("Subplan Name") or ""
    if node.get("Parent Relationship") != "InitPlan" or name.startswith("CTE "):
        return None
    returned = re.search(r"\(returns (.*)\)", name)  # PostgreSQL < 17: "InitPlan 1 (returns $0,$1)"
    if returned:
        return [re.compile(re.escape(param) + r"(?!\d)") for param in returned[1].split(",")]
    return [re.compile(re.escape(f"({name})"))]


def _reads(node: dict, patterns: list[re.Pattern]) -> bool:
    for key in _EXPRESSION_KEYS:
        value = node.get(key)
        texts = value if isinstance(value, list) else [value] if isinstance(value, str) else []
        if any(pattern.search(text) for text in texts for pattern in patterns):
            return True
    return False


def _subtree(walked, start: int) -> range:
    """Indexes of the subtree rooted at start (depth-first order makes it contiguous)."""
    depth = walked[start][2]
    end = start + 1
    while end < len(walked) and walked[end][2] > depth:
        end += 1
    return range(start, end)


def _consumers(walked, index: int) -> list[int]:
    """Nodes that ran a CTE / InitPlan: CTE Scans of the CTE, or nodes reading the InitPlan's value."""
    node, parent, _ = walked[index]
    name = node.get("Subplan Name") or ""
    if node.get("Parent Relationship") == "InitPlan" and name.startswith("CTE "):
        cte = name[4:]
        return [i for i, (n, _, _) in enumerate(walked) if n["Node Type"] == "CTE Scan" and n.get("CTE Name") == cte]
    patterns = _initplan_tokens(node)
    if patterns is None:
        return []
    own, scope = _subtree(walked, index), _subtree(walked, parent)
    return [i for i in scope if i not in own and _reads(walked[i][0], patterns)]


def _exclusive(walked, inclusive: list[float | None]) -> list[float | None]:
    """Inclusive minus children, with CTEs and InitPlans charged to the nodes that ran them."""
    if inclusive[0] is None:
        return [None] * len(walked)
    deferred = {i: c for i in range(len(walked)) if (c := _consumers(walked, i)) and c != [walked[i][1]]}
    exclusive = [value or 0.0 for value in inclusive]
    for index, (_, parent, _) in enumerate(walked):
        if parent is not None and index not in deferred:
            exclusive[parent] -= inclusive[index] or 0.0
    for index, consumers in deferred.items():
        remaining = inclusive[index] or 0.0
        for consumer in sorted(consumers, key=lambda i: -exclusive[i]):
            taken = min(remaining, max(exclusive[consumer], 0.0))
            exclusive[consumer] -= taken
            remaining -= taken
    return [max(value, 0.0) for value in exclusive]


def _exclusive_cost(walked) -> list[float]:
    cost = [node.get("Total Cost", 0.0) for node, _, _ in walked]
    exclusive = list(cost)
    for index, (node, parent, _) in enumerate(walked):
        if parent is not None and node.get("Parent Relationship") not in ("InitPlan", "SubPlan"):
            exclusive[parent] -= cost[index]
    return [max(value, 0.0) for value in exclusive]


def _misestimate(node: dict) -> tuple[float | None, str | None]:
    """max(actual/estimated, estimated/actual) per loop; rows below 1 count as 1 to avoid zeros."""
    if not node.get("Actual Loops"):
        return None, None
    actual, estimated = max(node["Actual Rows"], 1.0), max(node.get("Plan Rows", 1), 1.0)
    if actual == estimated:
        return 1.0, None
    return max(actual / estimated, estimated / actual), "under" if actual > estimated else "over"


def ast_nodes(root: Any) -> Iterator[Any]:
    """Every pglast AST node under root (root included), without recursion."""
    from pglast import ast

    stack = [root]
    while stack:
        item = stack.pop()
        if isinstance(item, (list, tuple)):
            stack.extend(reversed(item))
        elif isinstance(item, ast.Node):
            yield item
            values = (getattr(item, slot, None) for slot in type(item).__slots__)
            stack.extend(reversed([value for value in values if isinstance(value, (ast.Node, list, tuple))]))


def _row(node: dict, inclusive: float | None, processes: int) -> dict[str, Any]:
    loops = node.get("Actual Loops")
    factor, direction = _misestimate(node)
    rows_total = node["Actual Rows"] * loops if loops is not None else None
    removed = {key: node[name] * (loops or 1) if name in node else None for key, name in (
        ("rows_removed_by_filter", "Rows Removed by Filter"), ("rows_removed_by_join_filter", "Rows Removed by Join Filter"),
        ("rows_removed_by_index_recheck", "Rows Removed by Index Recheck"))}
    removed_sum = sum(value for value in removed.values() if value)
    read = removed_sum + (rows_total or 0)
    return {
        "node_type": _node_type(node), "label": _label(node), "relation": _relation(node), "schema_name": node.get("Schema"),
        "relation_name": node.get("Relation Name"), "alias": node.get("Alias"),
        "index_name": node.get("Index Name"), "cte_name": node.get("CTE Name"), "join_type": node.get("Join Type"),
        "strategy": node.get("Strategy"), "parent_relationship": node.get("Parent Relationship"),
        "subplan_name": node.get("Subplan Name"), "parallel_aware": bool(node.get("Parallel Aware")),
        "actual_rows": node.get("Actual Rows"), "actual_loops": loops, "actual_rows_total": rows_total,
        "plan_rows": node.get("Plan Rows"), "misestimate_factor": factor, "misestimate_direction": direction,
        "inclusive_ms": inclusive, "total_cost": node.get("Total Cost"),
        "shared_hit_blocks": node.get("Shared Hit Blocks"), "shared_read_blocks": node.get("Shared Read Blocks"),
        "shared_dirtied_blocks": node.get("Shared Dirtied Blocks"), "shared_written_blocks": node.get("Shared Written Blocks"),
        "temp_read_blocks": node.get("Temp Read Blocks"), "temp_written_blocks": node.get("Temp Written Blocks"),
        "io_read_ms": _io(node, "Read"), "io_write_ms": _io(node, "Write"), **removed,
        "removed_percent": 100.0 * removed_sum / read if rows_total is not None and read else None,
        "heap_fetches": _scaled(node, "Heap Fetches", loops), "sort_method": node.get("Sort Method"),
        "sort_space_kb": node.get("Sort Space Used"), "sort_space_type": node.get("Sort Space Type"),
        "hash_batches": node.get("Hash Batches"), "original_hash_batches": node.get("Original Hash Batches"),
        "workers_planned": node.get("Workers Planned"), "workers_launched": node.get("Workers Launched"),
        "filter": node.get("Filter"), "index_cond": node.get("Index Cond") or node.get("Recheck Cond"),
    }


def _scaled(node: dict, key: str, loops: int | None) -> float | None:
    """Per-loop averages (Heap Fetches, Rows Removed) back to totals over all loops."""
    return node[key] * (loops or 1) if key in node else None


def _io(node: dict, direction: str) -> float | None:
    """I/O time: 'I/O Read Time' before PostgreSQL 17, shared + local I/O times from 17 on."""
    if f"I/O {direction} Time" in node:
        return node[f"I/O {direction} Time"]
    parts = [node[key] for key in (f"Shared I/O {direction} Time", f"Local I/O {direction} Time") if key in node]
    return sum(parts) if parts else None


def _flags(row: dict, *, slow_percent: tuple[float, float, float], misestimate_factor: float,
           filter_removed_percent: float) -> list[str]:
    """Flags worth a look; without ANALYZE only the estimated-cost share can be judged."""
    flags: list[str] = []
    timed = row["percent_of_total"] is not None
    share = row["percent_of_total"] if timed else row["cost_percent"]
    for level, word in zip(sorted(slow_percent, reverse=True), _SLOW_WORDS if timed else _COST_WORDS, strict=True):
        if share is not None and share > level:
            flags.append(f"{word}: {share:.0f}% of {'time' if timed else 'estimated cost'}")
            break
    factor = row["misestimate_factor"]
    stopped_early = row["stopped_by_limit"] and row["misestimate_direction"] == "over"
    if factor is not None and factor > misestimate_factor and not stopped_early:
        flags.append(f"rows {row['misestimate_direction']}-estimated {factor:.0f}x")
    removed = row["removed_percent"]
    if removed is not None and removed > filter_removed_percent:
        flags.append(f"filter removed {removed:.0f}% of rows read")
    if row["node_type"].endswith("Index Only Scan") and (row["heap_fetches"] or 0) > 0:
        flags.append(f"index-only scan fetched {row['heap_fetches']:.0f} rows from the heap: VACUUM the table")
    if (row["hash_batches"] or 0) > 1:
        flags.append(f"hash spilled: {row['hash_batches']} batches, raise work_mem")
    if row["sort_space_type"] == "Disk":
        flags.append(f"sort spilled to disk: {_size(row['sort_space_kb'])}")
    if row["index_columns"]:
        read = (row["actual_rows_total"] or 0) + (row["rows_removed_by_filter"] or 0)
        flags.append(f"selective filter on {read:.0f} rows read: {_index_hint(row['index_kinds'])} may help")
    return flags


def _index_hint(kinds: dict[str, str]) -> str:
    """'an index on (v)', 'a trigram index on (body)' or both: a B-tree never serves a pattern that may start with %."""
    from queries.advisors.shape import WILDCARD

    trigram = [column for column, kind in kinds.items() if kind == WILDCARD]
    btree = [column for column, kind in kinds.items() if kind != WILDCARD]
    parts = ([f"a trigram index on ({', '.join(trigram)})"] if trigram else []) + (
        [f"an index on ({', '.join(btree)})"] if btree else [])
    return " and ".join(parts)


def _size(kilobytes: float | None) -> str:
    if kilobytes is None:
        return "unknown size"
    return f"{kilobytes / 1024:.0f} MB" if kilobytes >= 1024 else f"{kilobytes:.0f} kB"


def _index_kinds(row: dict, *, large_table_rows: float) -> dict[str, str]:
    """column -> how the filter uses it (equality, range, prefix, wildcard, ...; the index advisor's shapes), for a Seq
    Scan that reads a large table and keeps under 10% of it."""
    from queries.advisors.shape import INDEXABLE, filter_predicates  # shape reads ast_nodes from this module

    if not row["node_type"].endswith("Seq Scan") or row["removed_percent"] is None or row["removed_percent"] <= 90:
        return {}
    if (row["actual_rows_total"] or 0) + (row["rows_removed_by_filter"] or 0) <= large_table_rows:
        return {}
    kinds: dict[str, str] = {}
    for predicate in filter_predicates(row["filter"]):
        if predicate.kind in INDEXABLE:
            kinds.setdefault(predicate.column, predicate.kind)
    return kinds


def _blocks(node: dict) -> bool:
    """Whether a node consumes all of its input before its parent gets a row (sorts, hashes, plain aggregates)."""
    if node["Node Type"] in _BLOCKING:
        return True
    return node["Node Type"] in ("Aggregate", "SetOp") and node.get("Strategy") in ("Plain", "Hashed", "Mixed")


def _stopped_by_limit(walked) -> list[bool]:
    """Nodes a Limit stopped early: the Limit returned all it planned to, and every node between streams rows."""
    stopped = [False] * len(walked)
    for index, (node, parent, _) in enumerate(walked):
        if parent is None:
            continue
        above = walked[parent][0]
        if above["Node Type"] == "Limit":
            stopped[index] = above.get("Actual Loops", 0) > 0 and above.get("Actual Rows", 0) >= above.get("Plan Rows", 0)
        elif node.get("Parent Relationship") not in ("InitPlan", "SubPlan") and not _blocks(above):
            stopped[index] = stopped[parent]
    return stopped


def plan_nodes(plan_json: Any, *, slow_percent: tuple[float, float, float] = (10.0, 40.0, 90.0), misestimate_factor: float = 10.0,
               filter_removed_percent: float = 50.0, large_table_rows: float = 10_000) -> pd.DataFrame:
    """One row per plan node, depth-first, with exclusive times and pev2-like flags."""
    top = _top(plan_json)
    walked = _walk(top["Plan"])
    processes = _processes(walked)
    inclusive = [_inclusive(node, processes[i]) for i, (node, _, _) in enumerate(walked)]
    exclusive = _exclusive(walked, inclusive)
    if exclusive[0] is not None and top.get("Execution Time"):
        exclusive[0] += max(top["Execution Time"] - inclusive[0], 0.0)
        inclusive[0] = max(inclusive[0], top["Execution Time"])
    stopped = _stopped_by_limit(walked)
    exclusive_cost = _exclusive_cost(walked)
    total_ms = top.get("Execution Time") or (inclusive[0] if inclusive[0] else None)
    total_cost = sum(exclusive_cost) or None
    rows = []
    for index, (node, parent, depth) in enumerate(walked):
        row = {"node_id": index, "parent_id": parent, "depth": depth, **_row(node, inclusive[index], processes[index])}
        row["exclusive_ms"] = exclusive[index]
        row["exclusive_cost"] = exclusive_cost[index]
        row["percent_of_total"] = 100.0 * exclusive[index] / total_ms if total_ms and exclusive[index] is not None else None
        row["cost_percent"] = 100.0 * exclusive_cost[index] / total_cost if total_cost else None
        row["index_kinds"] = _index_kinds(row, large_table_rows=large_table_rows)  # not a column: the flag's words
        row["index_columns"] = list(row["index_kinds"])
        row["stopped_by_limit"] = stopped[index]
        row["flags"] = _flags(row, slow_percent=slow_percent, misestimate_factor=misestimate_factor,
                              filter_removed_percent=filter_removed_percent)
        rows.append(row)
    frame = pd.DataFrame(rows, columns=COLUMNS)
    return frame.astype({column: "Int64" for column in _COUNT_COLUMNS})


def plan_summary(plan_json: Any, nodes: pd.DataFrame | None = None) -> PlanSummary:
    """Planning / execution time, the root's (inclusive) buffers and rows, and flagged nodes."""
    top = _top(plan_json)
    root = top["Plan"]
    nodes = plan_nodes(plan_json) if nodes is None else nodes
    planning, execution = top.get("Planning Time"), top.get("Execution Time")
    temp = [root[key] for key in ("Temp Read Blocks", "Temp Written Blocks") if key in root]
    return PlanSummary(
        planning_ms=planning, execution_ms=execution,
        total_ms=(planning or 0.0) + execution if execution is not None else None,
        total_shared_hit_blocks=root.get("Shared Hit Blocks"), total_shared_read_blocks=root.get("Shared Read Blocks"),
        total_temp_blocks=sum(temp) if temp else None,
        root_rows=root["Actual Rows"] * root["Actual Loops"] if "Actual Loops" in root else None,
        node_count=len(nodes), flagged_node_count=int(nodes["flags"].map(bool).sum()))


def plan_text(plan_json: Any, nodes: pd.DataFrame | None = None) -> str:
    """A compact text plan, one line per node: type, relation, time, rows x loops, estimate, flags."""
    nodes = plan_nodes(plan_json) if nodes is None else nodes
    lines = []
    for row in nodes.itertuples(index=False):
        prefix = "  " * row.depth + ("-> " if row.depth else "")
        head = f"{row.subplan_name}: " if isinstance(row.subplan_name, str) else ""
        text = f"{prefix}{head}{row.label}"
        if isinstance(row.alias, str) and row.alias != row.relation:
            text += f" {row.alias}"
        if pd.notna(row.inclusive_ms):
            text += (f"  [{row.exclusive_ms:.3f} ms self, {row.inclusive_ms:.3f} ms total, "
                     f"{row.actual_rows:g} rows x {row.actual_loops} loops, est {row.plan_rows:g}]")
        else:
            text += f"  [est {row.plan_rows:g} rows, cost {row.total_cost:g}]"
        if row.flags:
            text += "  ! " + "; ".join(row.flags)
        lines.append(text)
    return "\n".join(lines)


_COMPARED = ("execution_ms", "planning_ms", "total_ms", "total_shared_hit_blocks", "total_shared_read_blocks",
             "total_temp_blocks", "root_rows", "node_count", "flagged_node_count")


def _pair(item: Any) -> tuple[PlanSummary, pd.DataFrame]:
    if isinstance(item, tuple):
        return item
    return item.summary, item.nodes


def compare_plans(a: Any, b: Any) -> pd.DataFrame:
    """Before/after figures of two plans (ExplainResults or (summary, nodes) pairs): one numeric row per figure."""
    (summary_a, _), (summary_b, _) = _pair(a), _pair(b)
    rows = []
    for metric in _COMPARED:
        before, after = getattr(summary_a, metric), getattr(summary_b, metric)
        ratio = after / before if before and after is not None else None
        rows.append({"metric": metric, "before": before, "after": after, "change_ratio": ratio})
    return pd.DataFrame(rows, columns=["metric", "before", "after", "change_ratio"]).astype(
        {"before": "float64", "after": "float64", "change_ratio": "float64"})


def node_changes(a: Any, b: Any) -> pd.DataFrame:
    """Plan nodes (by label) only in the first plan ("removed") or more often in the second ("added")."""
    (_, nodes_a), (_, nodes_b) = _pair(a), _pair(b)
    labels_a, labels_b = nodes_a["label"].value_counts(), nodes_b["label"].value_counts()
    rows = []
    for label in sorted(set(labels_a.index) | set(labels_b.index)):
        count_a, count_b = int(labels_a.get(label, 0)), int(labels_b.get(label, 0))
        if count_a != count_b:
            rows.append({"change": "removed" if count_a > count_b else "added", "label": label,
                         "count_before": count_a, "count_after": count_b})
    return pd.DataFrame(rows, columns=["change", "label", "count_before", "count_after"])


def flagged_nodes(nodes: pd.DataFrame) -> pd.DataFrame:
    """The flagged nodes, the one taking the most time (or estimated cost without ANALYZE) first."""
    flagged = nodes[nodes["flags"].map(bool)]
    size = "exclusive_ms" if nodes["exclusive_ms"].notna().any() else "exclusive_cost"
    return flagged.sort_values(size, ascending=False, kind="stable")
