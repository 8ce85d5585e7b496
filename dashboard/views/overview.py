"""Overview: is the server healthy right now, and which statements cost the most."""
import time

import pandas as pd
import streamlit as st

from dashboard.components import age_caption, panel, refresh_now_button, rerun_if_unreachable, second_reading_note, table_with_csv
from dashboard.data import health_reading, load, sample_history
from dashboard.formatting import human_bytes, human_duration, percent, shorten
from dashboard.history import history_note
from dashboard.history_panels import overview_history, what_changed_table
from dashboard.navigation import PAGES, page_file
from dashboard.sidebar import current
from queries.cache import hit_ratio_between
from queries.catalogue import metric
from queries.health import worst_first
from queries.overview import server_summary, transactions_per_second
from queries.statements import statements, statements_status

context = current()
st.title("Overview")
refresh_now_button(context.target, "o_refresh")


def summary_metrics() -> None:
    summary = load(server_summary, context)
    previous = sample_history().previous(f"server_summary:{context.target.name}", summary)
    tps = transactions_per_second(previous, summary)
    interval_ratio = hit_ratio_between(previous, summary)
    first, second, third, fourth = st.columns(4)
    first.metric("PostgreSQL", summary.server_version.split()[0])
    first.metric("Uptime", human_duration(summary.uptime_seconds))
    second.metric(f"Size of {summary.database_name}", human_bytes(summary.database_size_estimate_bytes),
                  help="estimated by page counts (relpages, as of the last VACUUM / ANALYZE); exact sizes on the Space page")
    second.metric("Connections", f"{summary.connections_used} / {summary.max_connections}",
                  help=f"{summary.superuser_reserved_connections} more are reserved for superusers")
    third.metric("Buffer cache hit ratio", percent(summary.cache_hit_ratio, 2), help="since statistics reset")
    third.metric("Hit ratio, last interval", percent(interval_ratio, 2))
    fourth.metric("Transactions / s", "–" if tps is None else f"{tps:,.1f}", help="since the previous refresh")
    if tps is None or interval_ratio is None:
        st.caption(second_reading_note(context, "Transactions / s and the last interval's hit ratio compare"))
    st.session_state["_overview_reachable"] = True


def statements_health() -> None:
    status = load(statements_status, context)
    if status.fix:
        st.warning(f"pg_stat_statements is not usable: {status.fix}", icon=":material/warning:")
    else:
        st.success(f"pg_stat_statements {status.installed_version}: {status.statement_count:,} statements tracked",
                   icon=":material/check_circle:")
    if status.privilege_note:
        st.info(status.privilege_note, icon=":material/lock:")


def top_statements() -> None:
    frame = load(statements, context, **metric("statements").defaults).head(5)
    shown = frame[["query", "calls", "total_exec_time_ms", "mean_exec_time_ms", "percent_of_total_time"]]
    table_with_csv(shown, "top_statements")


HEALTH_LINE_CHARS = 140  # what a health check's line holds at 1440 px wide before it would be clipped
# status -> (icon, colour of the words, what it is called in the summary line)
STATUS_LOOK = {"error": (":material/error:", "red", ("check could not run", "checks could not run")),
               "warn": (":material/warning:", "orange", ("check needs a look", "checks need a look")),
               "pass": (":material/check_circle:", "green", ("check passes", "checks pass"))}


def health() -> None:
    live = health_reading(context, "live").value
    # index, overflow and wraparound checks scan the catalog; they change slowly: the statistics pace
    catalog_every_s = slow_refresh(context.stats_refresh_seconds)
    catalog = health_reading(context, "catalog", catalog_every_s)
    if (catalog.value["status"] == "error").any():  # a failure (server down) must not outlive the refresh interval
        catalog_every_s = context.refresh_seconds
        catalog = health_reading(context, "catalog", catalog_every_s)
    checks = worst_first(pd.concat([live, catalog.value], ignore_index=True))
    counts = checks["status"].value_counts()
    st.markdown(" · ".join(f":{STATUS_LOOK[status][1]}[**{counts[status]}** {STATUS_LOOK[status][2][int(counts[status] != 1)]}]"
                           for status in STATUS_LOOK if counts.get(status)))
    for row in checks.itertuples():
        icon, colour, _ = STATUS_LOOK[row.status]
        # a link's label is one line: a long detail (a statement, an index definition) is cut there, whole on hover
        words = f"**{row.check}**: {shorten(row.detail, HEALTH_LINE_CHARS - len(row.check))}"
        st.page_link(str(page_file(row.page)), label=words if row.status == "pass" else f":{colour}[{words}]", icon=icon,
                     help=f"{row.detail}\n\nOpen the {row.page.title()} page")
    age_caption(time.time() - catalog.read_at, catalog_every_s, what="Index, wraparound, overflow and statement checks")
    with st.expander("Health checks as a table"):  # the detail says each figure in words; the CSV keeps the numbers
        words = {"error": "could not run", "warn": "needs a look", "pass": "passes"}
        table_with_csv(checks.assign(status=checks["status"].map(words), page=[PAGES[page][1] for page in checks["page"]]),
                       "health", column_order=["status", "check", "detail", "page"])


def slow_refresh(seconds: int) -> int:
    """Slow-changing panels refresh at `seconds`, but at the page's pace while the server fails, so
    an outage never leaves an old green result next to the errors."""
    return seconds if st.session_state.get("_overview_reachable") else context.refresh_seconds


@st.fragment(run_every=context.run_every)
def overview() -> None:
    rerun_if_unreachable(context)
    st.session_state["_overview_reachable"] = False
    with panel():
        summary_metrics()
    with panel("Health checks"):
        health()
    if note := history_note(context):
        st.caption(note)
    else:
        with panel(f"Over the {context.time_range.label}"):
            overview_history(context)
        with panel("What changed", heading=False):
            st.markdown("**What changed** — statements 2x slower than the window before, and new ones")
            what_changed_table(context)
    with panel("pg_stat_statements"):
        statements_health()
    with panel("Top 5 statements by total time"):
        top_statements()


overview()
