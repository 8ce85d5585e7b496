"""Activity: who is connected, what runs long, who waits on whom."""
import pandas as pd
import streamlit as st

from dashboard.charts import count_bar, distinct_values, wait_events_bar, wait_label
from dashboard.components import confirm_action, panel, rerun_if_unreachable, table_with_csv, tag_columns
from dashboard.data import engine_for, load, settings
from dashboard.formatting import percent
from dashboard.history import history_note
from dashboard.load_panels import database_load, tree_table
from dashboard.sidebar import current
from queries.activity import ActivitySnapshot, activity_snapshot
from queries.advisors.sqlcommenter import TAG_COLUMNS

context = current()
st.title("Activity")
min_seconds = st.columns(4)[0].number_input("Long-running threshold (seconds)", 1, 86_400, 60, key="a_long_s")


class Snapshot:
    """The page's one read (one transaction, one pg_stat_activity snapshot); if it failed, every panel
    says why, and it is not retried once per panel."""

    def __init__(self) -> None:
        self.error: Exception | None = None
        try:
            self.data: ActivitySnapshot | None = load(activity_snapshot, context,
                                                      min_seconds=int(min_seconds))
        except Exception as exc:  # noqa: BLE001 - shown by each panel that needed it
            self.data, self.error = None, exc

    def get(self) -> ActivitySnapshot:
        if self.error is not None:
            raise self.error
        return self.data

    def frame(self, name: str) -> pd.DataFrame:
        return self.get().frame(name)


def visibility_note(snapshot: Snapshot) -> None:
    """Without pg_read_all_stats, other roles' sessions have no state, query or wait event: say so."""
    data = snapshot.get()
    if not data.can_read_all_stats:
        st.info(f"role {data.role_name} sees the state, query and waits of its own sessions only: other roles' "
                "sessions are counted but never shown as running, waiting or blocking. "
                f"GRANT pg_read_all_stats TO {data.role_name}; (or pg_monitor) to see all", icon=":material/lock:")


def usage(snapshot: Snapshot) -> None:
    used = snapshot.get().usage
    first, second, third, fourth = st.columns(4)
    first.metric("Connections", f"{used.total_connections} / {used.max_connections}")
    second.metric("Usage", percent(used.usage_ratio))
    third.metric("Available", f"{used.available_connections:,}")
    fourth.metric("Reserved", used.superuser_reserved_connections + used.reserved_connections,
                  help="superuser_reserved_connections + reserved_connections (for pg_use_reserved_connections)")


def connection_charts(snapshot: Snapshot) -> None:
    frame = snapshot.frame("connections")
    columns = st.columns(4)
    for column, (field, title) in zip(columns, [("state", "By state"), ("user_name", "By user"),
                                                ("application_name", "By application"),
                                                ("client_addr", "By client address")], strict=True):
        if not frame.empty and distinct_values(frame, field) == 1:  # one bar the width of the page says less than words
            only = frame[field].fillna("").astype(str).iloc[0] or "(none)"
            total = int(frame["connection_count"].sum())
            which = "the one connection" if total == 1 else "both connections" if total == 2 else f"all {total:,} connections"
            column.markdown(f"**{title}**\n\n{which}: `{only}`")
            continue
        column.plotly_chart(count_bar(frame, field, "connection_count", title), key=f"a_conn_{field}")


def blocking(snapshot: Snapshot) -> None:
    frame = snapshot.frame("blocking_tree")
    if frame.empty:
        st.success("No session is blocked by another.", icon=":material/check_circle:")
        return
    tree_table(frame, "blocking")


def waits_chart(snapshot: Snapshot) -> None:
    waits = snapshot.frame("wait_events")
    if len(waits) == 1:
        count = int(waits["backend_count"].iloc[0])
        label = wait_label(waits["wait_event_type"].iloc[0], waits["wait_event"].iloc[0])
        st.markdown(f"The one active backend: **{label}**" if count == 1 else f"All {count:,} active backends: **{label}**")
    elif not waits.empty:
        st.plotly_chart(wait_events_bar(waits, snapshot.frame("activity")), key="a_waits")
        st.caption("Every active backend, background processes included (grey); the session tables below list client "
                   "sessions only. Idle waits are left out.")
    # one column in words ("running (CPU)" rather than two blanks); the CSV keeps PostgreSQL's two columns too
    labelled = waits.assign(wait=[wait_label(kind, event) for kind, event in
                                  zip(waits["wait_event_type"], waits["wait_event"], strict=True)])
    table_with_csv(labelled, "wait_events", column_order=["wait", "backend_count"], empty="No active backend right now.")


@st.fragment(run_every=context.run_every)
def activity_page() -> None:
    rerun_if_unreachable(context)
    snapshot = Snapshot()
    with panel():
        visibility_note(snapshot)
    with panel("Connections"):
        usage(snapshot)
        connection_charts(snapshot)
    with panel("Blocking tree"):
        blocking(snapshot)
    with panel("Database load"):
        if note := history_note(context):
            st.caption(note)
        else:
            database_load(context)
    with panel(f"Queries running longer than {min_seconds} s"):
        table_with_csv(snapshot.frame("long_running_queries"), "long_running_queries",
                       first=["pid", "query_seconds", "query"], empty=f"No query has run longer than {min_seconds} s.")
    with panel("Idle in transaction"):
        table_with_csv(snapshot.frame("idle_in_transaction"), "idle_in_transaction",
                       first=["pid", "xact_seconds", "idle_seconds", "last_query"],
                       empty="No session is idle inside an open transaction.")
    with panel("Wait events"):
        waits_chart(snapshot)
    with panel("Maintenance in progress"):
        table_with_csv(snapshot.frame("maintenance_progress"), "maintenance_progress",
                       empty="No VACUUM, ANALYZE, CREATE INDEX or CLUSTER is running.")
    with panel("All sessions"):
        sessions = snapshot.frame("activity")
        tagged = tag_columns(sessions)  # where each statement comes from, when the application tags its SQL
        untagged = {column for column in (*TAG_COLUMNS, "comment_tags") if sessions[column].isna().all()}
        table_with_csv(sessions, "activity", column_order=[column for column in sessions if column not in untagged],
                       first=["pid", "state", "query_seconds", "query", *tagged, "user_name", "wait_event_type",
                              "wait_event"])


activity_page()
if settings().allow_actions:
    with panel("Cancel or terminate a backend"):
        confirm_action(engine_for(context.target.database_url, settings().pool_size))
