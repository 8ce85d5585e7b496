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
    "fleet": ("fleet.py", "Fleet", ":material/dns:"),
}
# opened from links only (a statement's History link on Queries or the Overview), never listed in the menu
UNLISTED = {"statement": ("statement.py", "Statement", ":material/timeline:")}


def page_file(url_path: str) -> Path:
    return VIEWS / {**PAGES, **UNLISTED}[url_path][0]


DEFAULT_PAGE = "overview"
FLEET_PAGE = "fleet"


def default_page(target_count: int) -> str:
    """The Fleet page first where there are several targets to compare, else the Overview."""
    return FLEET_PAGE if target_count > 1 else DEFAULT_PAGE


def pages(default: str = DEFAULT_PAGE) -> list:
    """The menu, the default page first. Streamlit serves the default page at "/" only (its own url_path then
    answers "Page not found"), so it is listed under an internal path ("overview-home") and answers /overview as an
    unlisted copy too (bookmarks, typed links)."""
    ordered = {default: PAGES[default], **PAGES}
    listed = [st.Page(VIEWS / file, title=title, icon=icon, default=url_path == default,
                      url_path=f"{default}-home" if url_path == default else url_path)
              for url_path, (file, title, icon) in ordered.items()]
    hidden = {default: PAGES[default], **UNLISTED}
    return [*listed, *[st.Page(VIEWS / file, title=title, icon=icon, url_path=url_path, visibility="hidden")
                       for url_path, (file, title, icon) in hidden.items()]]
