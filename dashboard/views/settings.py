"""Settings: the server settings that decide performance, which still have their defaults, and when settings changed."""
import streamlit as st

from dashboard.components import panel, read_age_caption, refresh_now_button, table_with_csv
from dashboard.data import load, settings
from dashboard.formatting import human_duration
from dashboard.history import history_note, range_read
from dashboard.sidebar import current
from queries.settings import performance_settings

context = current()
st.title("Settings")
refresh_now_button(context.target, "set_refresh")

with panel("Changes over the time range"):
    if note := history_note(context):
        st.info(note, icon=":material/history:")
    else:
        changes = range_read("setting_changes", context).sort_values("changed_at", ascending=False)
        every = human_duration(settings().history_settings_seconds)
        table_with_csv(changes, "setting_changes", first=["changed_at", "name", "old_value", "new_value",
                                                          "pending_restart"],
                       empty=f"No setting changed during the {context.time_range.label}. The collector compares every "
                             f"setting in pg_settings with the last value it kept, every {every}.")
        if not changes.empty:
            st.caption(f"Every setting of pg_settings, compared every {every}: a change happened between *Changed "
                       "after* and *Seen at*. The history charts mark these moments with a dotted line.")

with panel("Current values"):
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
