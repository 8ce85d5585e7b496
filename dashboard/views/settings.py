"""Settings: the server settings that decide performance, and which still have their defaults."""
import streamlit as st

from dashboard.components import panel, read_age_caption, refresh_now_button, table_with_csv
from dashboard.data import load
from dashboard.sidebar import current
from queries.settings import performance_settings

context = current()
st.title("Settings")
refresh_now_button(context.target, "set_refresh")

with panel():
    frame = load(performance_settings, context)
    only_changed = st.toggle("Only settings changed from their default", key="set_changed")
    shown = frame[~frame["is_default"]] if only_changed else frame
    pending = frame[frame["pending_restart"]]
    if not pending.empty:
        st.warning(f"Waiting for a restart to take effect: {', '.join(pending['name'])}", icon=":material/restart_alt:")
    # the raw columns (setting, boot_val) count in `unit` (e.g. 16384 x 8kB): they go last, beside it
    table_with_csv(shown, "settings", height=36 * (len(shown) + 1) + 2,
                   column_order=["name", "value_display", "short_desc", "is_default", "source", "pending_restart",
                                 "category", "setting", "boot_val", "unit"])
    read_age_caption(performance_settings, context)
