"""Space: what the databases, tables and indexes weigh."""
import streamlit as st

from dashboard.charts import horizontal_bar, size_treemap
from dashboard.components import panel, read_age_caption, refresh_now_button, rerun_if_unreachable, table_with_csv
from dashboard.data import load
from dashboard.history import history_note
from dashboard.sidebar import current
from dashboard.size_panels import table_growth
from queries.errors import LockTimeoutError
from queries.space import database_sizes, index_sizes, table_size_estimates, table_sizes

context = current()
st.title("Space")
refresh_now_button(context.target, "s_refresh")


def tables(slot) -> None:
    """Estimates from relpages first (instant on huge catalogs), replaced by exact sizes when they
    arrive; a lock that holds up exact sizes (a migration's) leaves the estimates up, saying why."""
    estimates = load(table_size_estimates, context)  # relpages move on VACUUM / ANALYZE only
    with slot.container():
        st.caption("Estimated from page counts (relpages); exact sizes are being read …")
        st.plotly_chart(size_treemap(estimates), key="s_treemap_estimate")
    try:
        exact = load(table_sizes, context)
    except LockTimeoutError as exc:
        with slot.container():
            st.warning(f"Exact sizes are waiting on a lock ({exc}); showing estimates (relpages).",
                       icon=":material/lock_clock:")
            st.plotly_chart(size_treemap(estimates), key="s_treemap_locked")
            table_with_csv(estimates, "table_sizes")
        return
    with slot.container():
        st.plotly_chart(size_treemap(exact), key="s_treemap")
        table_with_csv(exact, "table_sizes", first=["schema_name", "table_name", "total_bytes"])
        read_age_caption(table_sizes, context)


def databases() -> None:
    frame = load(database_sizes, context)
    if chart := horizontal_bar(frame.dropna(), "database_name", "size_bytes", "Database size", unit="bytes"):
        st.plotly_chart(chart, key="s_db")  # one database: its row below says it all
    table_with_csv(frame, "database_sizes")
    read_age_caption(database_sizes, context)


def indexes() -> None:
    table_with_csv(load(index_sizes, context), "index_sizes")
    read_age_caption(index_sizes, context)


def section(title: str):
    """A heading with a slot under it that says the sizes are on their way until they are."""
    st.subheader(title)
    slot = st.empty()
    slot.caption("Reading exact sizes …")
    return slot


@st.fragment(run_every=context.run_every)
def space_page() -> None:
    rerun_if_unreachable(context)
    # every heading first, then the figures: the cheap estimates paint at once, and the exact sizes
    # (a stat() per relation file) fill in panel by panel without holding up the rest of the page
    table_slot, database_slot, index_slot = section("Tables"), section("Databases"), section("Indexes")
    with table_slot.container(), panel("Tables", heading=False):
        tables(st.empty())
    with database_slot.container(), panel("Databases", heading=False):
        databases()
    with index_slot.container(), panel("Indexes", heading=False):
        indexes()


def growth() -> None:
    """Tables and indexes by growth over the sidebar's range, from the collector's size snapshots."""
    with panel(f"Growth over the {context.time_range.label}" if context.time_range else "Growth over time"):
        if note := history_note(context):
            st.caption(note)
        else:
            table_growth(context)


space_page()
growth()
