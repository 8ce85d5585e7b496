"""Cache: PostgreSQL's buffer cache and the Redis beside it."""
import streamlit as st

from dashboard.charts import horizontal_bar, ratio_gauge
from dashboard.components import panel, read_age_caption, refresh_now_button, rerun_if_unreachable, table_with_csv
from dashboard.data import load, sample_history
from dashboard.formatting import human_bytes, human_duration, percent
from dashboard.sidebar import current
from queries.cache import database_cache_hit, hit_ratio_between, index_cache_hit, table_cache_hit
from queries.redis_stats import commandstats, key_namespaces, keyspace, ops_per_second_between, redis_summary, slowlog
from queries.redis_stats import hit_ratio_between as redis_hit_ratio_between

context = current()
st.title("Cache")
refresh_now_button(context.target, "c_refresh")


def postgres_cache() -> None:
    sample = load(database_cache_hit, context)
    previous = sample_history().previous(f"cache:{context.target.name}", sample)
    left, right = st.columns(2)
    left.plotly_chart(ratio_gauge(sample.hit_ratio, "Buffer cache hit ratio, since reset"), key="c_pg_total")
    right.plotly_chart(ratio_gauge(hit_ratio_between(previous, sample), "Last refresh interval"), key="c_pg_delta")


def redis_overview() -> None:
    summary = load(redis_summary, context)
    previous = sample_history().previous(f"redis:{context.target.name}", summary)
    first, second, third, fourth = st.columns(4)
    first.metric("Redis", summary.redis_version)
    first.metric("Uptime", human_duration(summary.uptime_seconds))
    second.metric("Hit ratio since start", percent(summary.hit_ratio, 2))
    second.metric("Hit ratio, last interval", percent(redis_hit_ratio_between(previous, summary), 2))
    limit = human_bytes(summary.maxmemory_bytes) if summary.maxmemory_bytes else "no limit"
    third.metric(f"Memory (max {limit})", human_bytes(summary.used_memory_bytes),
                 help=f"maxmemory-policy {summary.maxmemory_policy}")
    fragmentation = (f"{summary.mem_fragmentation_ratio:.2f}" if summary.fragmentation_is_meaningful
                     else "n/a (small)")
    third.metric("Fragmentation", fragmentation, help="ignored while the absolute fragmentation is small")
    ops = ops_per_second_between(previous, summary)
    fourth.metric("Ops / s", f"{summary.instantaneous_ops_per_sec:,}" if ops is None else f"{ops:,.0f}")
    fourth.metric("Clients (blocked)", f"{summary.connected_clients} ({summary.blocked_clients})")
    st.caption(f"evicted keys {summary.evicted_keys:,} · expired keys {summary.expired_keys:,} · "
               f"hits {summary.keyspace_hits:,} · misses {summary.keyspace_misses:,}")


@st.fragment(run_every=context.run_every)
def cache_page() -> None:
    rerun_if_unreachable(context)
    st.header("PostgreSQL")
    with panel("Database"):
        postgres_cache()
    with panel("Tables reading most from disk"):
        # per-relation counters scan every table's statistics: the statistics pace is plenty for a ranking
        tables = load(table_cache_hit, context)
        table_with_csv(tables, "table_cache_hit")
        read_age_caption(table_cache_hit, context)
    with panel("Indexes reading most from disk"):
        table_with_csv(load(index_cache_hit, context), "index_cache_hit")
    st.header("Redis")
    with panel("Server"):
        redis_overview()
    with panel("Keyspace"):
        table_with_csv(load(keyspace, context), "redis_keyspace")
    with panel("Key namespaces (sampled with SCAN)"):
        namespaces = load(key_namespaces, context)
        st.plotly_chart(horizontal_bar(namespaces, "namespace", "memory_bytes", "Memory by namespace (bytes)"),
                        key="c_ns")
        table_with_csv(namespaces, "redis_namespaces")
    with panel("Commands"):
        table_with_csv(load(commandstats, context), "redis_commandstats")
    with panel("Slow log"):
        table_with_csv(load(slowlog, context), "redis_slowlog")


cache_page()
