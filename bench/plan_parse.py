"""Time plan_nodes + plan_summary, and the Explain page's two Plotly figures, on a plan of
2,000+ nodes from the embedded PostgreSQL 18.

Run: .venv/bin/python -m bench.plan_parse   (prints figures from one run; no assertions)
"""
from __future__ import annotations

import json
import tempfile
import time
from pathlib import Path

import psycopg

from demo.postgres import Cluster, embedded_bin_dir
from queries.connection import make_engine
from queries.explain import ExplainOptions, explain
from queries.plan import plan_nodes, plan_summary

BRANCHES = 1000


def best_of(runs: int, action) -> float:
    """Fastest of several runs, in seconds: the least disturbed by other work on the machine."""
    timings = []
    for _ in range(runs):
        start = time.perf_counter()
        action()
        timings.append(time.perf_counter() - start)
    return min(timings)


def main() -> None:
    with tempfile.TemporaryDirectory() as tmp:
        cluster = Cluster(embedded_bin_dir(), Path(tmp) / "data").start()
        try:
            with psycopg.connect(cluster.url(), autocommit=True) as conn:
                conn.execute("CREATE TABLE t AS SELECT g AS id, g % 50 AS v FROM generate_series(1, 2000) g; ANALYZE t")
            # each branch is an Aggregate over a Seq Scan: 2 nodes, plus the Append on top
            sql = " UNION ALL ".join(f"(SELECT count(*) FROM t WHERE v = {k % 50})" for k in range(BRANCHES))
            engine = make_engine(cluster.url())
            result = explain(engine, sql, ExplainOptions(timeout_ms=120_000))
            engine.dispose()
        finally:
            cluster.stop()
    text = json.dumps(result.plan_json)
    loads = best_of(5, lambda: json.loads(text))
    parse = best_of(5, lambda: plan_summary(result.plan_json, plan_nodes(result.plan_json)))
    print(f"nodes: {len(result.nodes)}  plan JSON: {len(text) / 1e6:.1f} MB")
    from dashboard.charts import plan_icicle, top_nodes_bar

    figures = best_of(5, lambda: (plan_icicle(result.nodes).to_json(), top_nodes_bar(result.nodes).to_json()))
    print(f"json.loads: {loads * 1000:.1f} ms  plan_nodes + plan_summary: {parse * 1000:.1f} ms  "
          f"ratio: {parse / loads:.1f}x json.loads")
    print(f"icicle + top-nodes figures built and serialised: {figures * 1000:.1f} ms  "
          f"ratio: {figures / loads:.1f}x json.loads")


if __name__ == "__main__":
    main()
