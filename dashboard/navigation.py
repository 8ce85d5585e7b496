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
    "replication": ("replication.py", "Replication", ":material/sync_alt:"),
    "cache": ("cache.py", "Cache", ":material/bolt:"),
    "settings": ("settings.py", "Settings", ":material/tune:"),
}
# opened from links only (a statement's History link on Queries or the Overview), never listed in the menu
UNLISTED = {"statement": ("statement.py", "Statement", ":material/timeline:")}


def page_file(url_path: str) -> Path:
    return VIEWS / {**PAGES, **UNLISTED}[url_path][0]


DEFAULT_PAGE = "overview"
# Streamlit serves the default page at "/" only (its own url_path then answers "Page not found"), so the Overview
# is listed under an internal path and answers /overview as an unlisted copy too (bookmarks, typed links)
_DEFAULT_PAGE_INTERNAL_PATH = "overview-home"


def pages() -> list:
    listed = [st.Page(VIEWS / file, title=title, icon=icon, default=url_path == DEFAULT_PAGE,
                      url_path=_DEFAULT_PAGE_INTERNAL_PATH if url_path == DEFAULT_PAGE else url_path)
              for url_path, (file, title, icon) in PAGES.items()]
    hidden = {DEFAULT_PAGE: PAGES[DEFAULT_PAGE], **UNLISTED}
    return [*listed, *[st.Page(VIEWS / file, title=title, icon=icon, url_path=url_path, visibility="hidden")
                       for url_path, (file, title, icon) in hidden.items()]]
