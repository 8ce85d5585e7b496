"""The pages of pgpulse, in menu order: one list, used by app.py and by links between pages."""
from pathlib import Path

import streamlit as st

VIEWS = Path(__file__).parent / "views"
# url_path -> (file, title, icon)
PAGES = {
    "overview": ("overview.py", "Overview", ":material/monitor_heart:"),
    "queries": ("queries.py", "Queries", ":material/query_stats:"),
    "explain": ("explain.py", "Explain", ":material/account_tree:"),
    "activity": ("activity.py", "Activity", ":material/groups:"),
    "space": ("space.py", "Space", ":material/database:"),
    "indexes": ("indexes.py", "Indexes", ":material/format_list_numbered:"),
    "maintenance": ("maintenance.py", "Maintenance", ":material/build:"),
    "cache": ("cache.py", "Cache", ":material/bolt:"),
    "settings": ("settings.py", "Settings", ":material/tune:"),
}


def page_file(url_path: str) -> Path:
    return VIEWS / PAGES[url_path][0]


def pages() -> list:
    return [st.Page(VIEWS / file, title=title, icon=icon, url_path=url_path, default=url_path == "overview")
            for url_path, (file, title, icon) in PAGES.items()]
