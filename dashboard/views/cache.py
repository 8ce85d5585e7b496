"""Cache: PostgreSQL's buffer cache and the Redis beside it."""
import streamlit as st

from dashboard.charts import horizontal_bar, ratio_gauge
from dashboard.components import (
    panel,
    read_age_caption,
    refresh_now_button,
    rerun_if_unreachable,
    second_reading_note,
    table_with_csv,
)
from dashboard.data import load, sample_history
from dashboard.formatting import human_bytes, human_duration, percent
from dashboard.history import bucket_of, history_note, range_read, setting_markers
from dashboard.history_charts import series_chart
from dashboard.sidebar import current
from queries.cache import database_cache_hit, hit_ratio_between, index_cache_hit, table_cache_hit
from queries.errors import PrivilegeError, StatementTimeoutError, UnreachableError
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
    interval = hit_ratio_between(previous, sample)
    if interval is None:  # an empty dial says nothing: say when the figure comes
        with right:
            st.markdown("**Buffer cache hit ratio, last refresh interval**")
            st.info(second_reading_note(context), icon=":material/hourglass_top:")
    else:
        right.plotly_chart(ratio_gauge(interval, "Buffer cache hit ratio, last refresh interval"), key="c_pg_delta")


def postgres_over_range() -> None:
    """The buffer cache hit ratio per bucket of the sidebar's range, from the collector's pg_stat_database deltas."""
    if note := history_note(context):
        st.caption(note)
        return
    series = range_read("database_series", context)
    if series["hit_ratio"].dropna().empty:
        st.caption(f"No block was read during the {context.time_range.label}, as far as the collector has seen.")
        return
    st.plotly_chart(series_chart(series, {"hit_ratio": "hit ratio"}, f"Buffer cache hit ratio, {context.time_range.label}",
                                 percent=True, bucket_s=bucket_of(series), markers=setting_markers(context)),
                    key="c_pg_history")


def redis_over_range() -> None:
    """Hit ratio, memory against maxmemory, evictions, commands per second and clients per bucket of the range,
    from the collector's INFO readings (every history_redis_seconds). Without history, nothing: the PostgreSQL
    part says how to start it, once."""
    if history_note(context):
        return
    st.subheader("Over time")
    series = range_read("redis_series", context)
    if series.empty:
        st.caption(f"No Redis reading was kept during the {context.time_range.label}: the collector reads INFO every "
                   "history_redis_seconds for a target with a Redis URL, from its second reading on.")
        return
    megabytes = series.assign(used_memory_mb=series["used_memory_bytes"] / 2**20,
                              maxmemory_mb=(series["maxmemory_bytes"] / 2**20).where(series["maxmemory_bytes"] > 0))
    bucket, markers = bucket_of(series), setting_markers(context)
    charts = [(series, {"hit_ratio": "hit ratio"}, "Hit ratio", {"percent": True}),
              (megabytes, {"used_memory_mb": "used (peak)", "maxmemory_mb": "maxmemory"}, "Memory", {"unit": "MB"}),
              (series, {"evicted_keys": "evicted keys"}, "Evictions", {"unit": "keys", "integer": True}),
              (series, {"ops_per_s": "commands / s"}, "Commands per second", {"unit": "ops/s"}),
              (series, {"connected_clients": "connected (mean)"}, "Clients", {"unit": "clients"})]
    columns = st.columns(2)
    for position, (frame, lines, title, options) in enumerate(charts):
        columns[position % 2].plotly_chart(series_chart(frame, lines, title, bucket_s=bucket, markers=markers, **options),
                                           key=f"c_redis_history_{position}")


def redis_overview() -> None:
    summary = load(redis_summary, context)
    previous = sample_history().previous(f"redis:{context.target.name}", summary)
    first, second, third, fourth = st.columns(4)
    first.metric("Redis", summary.redis_version)
    first.metric("Uptime", human_duration(summary.uptime_seconds))
    second.metric("Hit ratio since start", percent(summary.hit_ratio, 2))
    interval = redis_hit_ratio_between(previous, summary)
    second.metric("Hit ratio, last interval", percent(interval, 2), help="since the previous refresh")
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
    if interval is None:  # "–" alone reads as broken: say when the figure comes
        st.caption(second_reading_note(context, "The last interval's hit ratio compares"))


def redis_section() -> None:
    """The Redis beside the database: one neutral note without one, one error if it is away, else its panels."""
    if not context.target.redis_url:
        st.info("No Redis is configured for this target, so there is nothing to show here. To watch the Redis cache "
                "beside PostgreSQL, set REDIS_URL (e.g. redis://localhost:6379/0) before starting pgpulse, or add "
                "redis_url to the target's table in .streamlit/secrets.toml.", icon=":material/info:")
        return
    try:
        load(redis_summary, context)
    except (UnreachableError, PrivilegeError, StatementTimeoutError) as exc:
        st.error(f"**Redis cannot be read: {exc}.**\n\nIs Redis running at the host and port of REDIS_URL (or the "
                 "target's redis_url), and are its user and password right? PostgreSQL's figures above are not affected.",
                 icon=":material/cloud_off:")
        with panel("Over time", heading=False):  # what the collector kept is there all the same
            redis_over_range()
        return
    with panel("Server"):
        redis_overview()
    with panel("Over time", heading=False):
        redis_over_range()
    with panel("Keyspace"):
        table_with_csv(load(keyspace, context), "redis_keyspace")
    with panel("Key namespaces (sampled with SCAN)"):
        namespaces = load(key_namespaces, context)
        if chart := horizontal_bar(namespaces, "namespace", "memory_bytes", "Memory by namespace", unit="bytes"):
            st.plotly_chart(chart, key="c_ns")  # one namespace: the table's one row says it
        table_with_csv(namespaces, "redis_namespaces")
    with panel("Commands"):
        table_with_csv(load(commandstats, context), "redis_commandstats")
    with panel("Slow log"):
        table_with_csv(load(slowlog, context), "redis_slowlog", empty="The slow log is empty: no command took longer "
                       "than slowlog-log-slower-than.")


@st.fragment(run_every=context.run_every)
def cache_page() -> None:
    rerun_if_unreachable(context)
    st.header("PostgreSQL")
    with panel("Database"):
        postgres_cache()
    with panel("Hit ratio over time"):
        postgres_over_range()
    with panel("Tables reading most from disk"):
        # per-relation counters scan every table's statistics: the statistics pace is plenty for a ranking
        tables = load(table_cache_hit, context)
        table_with_csv(tables, "table_cache_hit", first=["schema_name", "table_name", "heap_hit_ratio", "total_blks_read"])
        read_age_caption(table_cache_hit, context)
    with panel("Indexes reading most from disk"):
        table_with_csv(load(index_cache_hit, context), "index_cache_hit")
    st.header("Redis")
    redis_section()


cache_page()
