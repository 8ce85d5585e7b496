"""Fleet: every target in one table, worst first, from the history store (opening it costs the servers nothing)."""
from urllib.parse import quote

import streamlit as st

from dashboard.components import panel, table_with_csv
from dashboard.data import settings
from dashboard.fleet_rows import FLEET_ORDER, failing_links, fleet_rows, fleet_summary
from dashboard.history import fleet_read
from dashboard.navigation import page_file
from dashboard.sidebar import current

NO_STORE = ("The Fleet page reads what the collector stores: `make run` starts it, or run `python -m dashboard collect` "
            "with `history_url` set (see README *History*).")
NOT_POLLED = ("The collector has not polled these targets yet: `make run` starts it, or run `python -m dashboard collect`; "
              "the first figures arrive within one database interval (`history_database_seconds`).")

context = current()
configured = settings()
st.title("Fleet")
if not configured.history_url:
    st.info(NO_STORE, icon=":material/dns:")
    st.stop()
tags = sorted({tag for target in configured.targets for tag in target.tags})
chosen = st.multiselect("Tags", tags, key="fleet_tags", placeholder="every target") if tags else []
names = [target.name for target in configured.targets if not chosen or set(chosen) & set(target.tags)]


@st.fragment(run_every=context.run_every)
def fleet_table() -> None:
    with panel():
        frame = fleet_read(names, context.refresh_seconds)
        if frame.empty or frame["reachable"].isna().all():
            st.info(NOT_POLLED, icon=":material/dns:")
            return
        st.caption(fleet_summary(frame))
        links = {"open": [f"overview?target={quote(name, safe='/')}" for name in frame["target"]]}
        table_with_csv(fleet_rows(frame), "fleet", column_order=FLEET_ORDER, links=links,
                       link_text={"open": r"\?target=(.*)$"})
        for target, page, label in failing_links(frame):
            st.page_link(str(page_file(page)), label=label, icon=":material/warning:", query_params={"target": target})


fleet_table()
