"""Activity: who is connected, what runs long, who waits on whom."""
import streamlit as st

from dashboard.charts import count_bar
from dashboard.components import confirm_action, panel, table_with_csv
from dashboard.data import engine_for, load, settings
from dashboard.formatting import percent
from dashboard.sidebar import current
from queries.activity import (
    activity,
    blocking_tree,
    connection_usage,
    connections,
    idle_in_transaction,
    long_running_queries,
    maintenance_progress,
    wait_events,
)
from queries.statements import statements_status

context = current()
st.title("Activity")
min_seconds = st.number_input("Long-running threshold (seconds)", 1, 86_400, 60, key="a_long_s")


def visibility_note() -> None:
    """Without pg_read_all_stats, other roles' sessions have no state, query or wait event: say so."""
    status = load(statements_status, context.target, context.refresh_seconds)
    if not status.can_read_all_stats:
        st.info(f"role {status.role_name} sees the state, query and waits of its own sessions only: other roles' "
                "sessions are counted but never shown as running, waiting or blocking. "
                f"GRANT pg_read_all_stats TO {status.role_name}; (or pg_monitor) to see all", icon=":material/lock:")


def usage() -> None:
    used = load(connection_usage, context.target, context.refresh_seconds)
    first, second, third, fourth = st.columns(4)
    first.metric("Connections", f"{used.total_connections} / {used.max_connections}")
    second.metric("Usage", percent(used.usage_ratio))
    third.metric("Available", used.available_connections)
    fourth.metric("Reserved (superuser + pg_use_reserved)",
                  used.superuser_reserved_connections + used.reserved_connections)


def connection_charts() -> None:
    frame = load(connections, context.target, context.refresh_seconds)
    columns = st.columns(4)
    for column, (field, title) in zip(columns, [("state", "By state"), ("user_name", "By user"),
                                                ("application_name", "By application"),
                                                ("client_addr", "By client address")], strict=True):
        column.plotly_chart(count_bar(frame, field, "connection_count", title), key=f"a_conn_{field}")


def blocking() -> None:
    frame = load(blocking_tree, context.target, context.refresh_seconds)
    if frame.empty:
        st.success("No session is blocked by another.", icon=":material/check_circle:")
        return
    shown = frame.assign(session=["    " * int(depth) + ("└─ " if depth else "") + str(pid)
                                  for pid, depth in zip(frame["pid"], frame["depth"], strict=True)])
    table_with_csv(shown, "blocking", column_order=["session", "blocking_pid", "lock_mode", "locktype", "relation",
                                                     "wait_seconds", "user_name", "state", "query", "path"])


@st.fragment(run_every=context.run_every)
def activity_page() -> None:
    with panel():
        visibility_note()
    with panel("Connections"):
        usage()
        connection_charts()
    with panel("Blocking tree"):
        blocking()
    with panel(f"Queries running longer than {min_seconds} s"):
        table_with_csv(load(long_running_queries, context.target, context.refresh_seconds,
                            min_seconds=int(min_seconds)), "long_running_queries")
    with panel("Idle in transaction"):
        table_with_csv(load(idle_in_transaction, context.target, context.refresh_seconds), "idle_in_transaction")
    with panel("Wait events"):
        waits = load(wait_events, context.target, context.refresh_seconds)
        if not waits.empty:
            labels = (waits["wait_event_type"] + ": " + waits["wait_event"]).fillna("running (CPU)")
            st.plotly_chart(count_bar(waits.assign(wait=labels), "wait", "backend_count", "Backends waiting, by event"),
                            key="a_waits")
        table_with_csv(waits, "wait_events")
    with panel("Maintenance in progress"):
        table_with_csv(load(maintenance_progress, context.target, context.refresh_seconds), "maintenance_progress")
    with panel("All sessions"):
        table_with_csv(load(activity, context.target, context.refresh_seconds), "activity")


activity_page()
if settings().allow_actions:
    with panel("Cancel or terminate a backend"):
        confirm_action(engine_for(context.target.database_url, settings().pool_size))
