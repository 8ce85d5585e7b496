"""pgpulse: the Streamlit entry point (`streamlit run dashboard/app.py`)."""
import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path; the packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from dashboard.config import ConfigError  # noqa: E402
from dashboard.data import settings  # noqa: E402
from dashboard.sidebar import render_sidebar  # noqa: E402

VIEWS = Path(__file__).parent / "views"
PAGES = [
    st.Page(VIEWS / "overview.py", title="Overview", icon=":material/monitor_heart:", url_path="overview", default=True),
    st.Page(VIEWS / "queries.py", title="Queries", icon=":material/query_stats:", url_path="queries"),
]

st.set_page_config(page_title="pgpulse", page_icon=":material/monitor_heart:", layout="wide")
page = st.navigation(PAGES)
try:
    context = render_sidebar(settings())
except ConfigError as exc:
    st.error(f"The configuration is unusable: {exc}")
    st.stop()
if context is None:
    st.title("pgpulse")
    st.info("No database to watch. Run `make run` for the embedded demo, or set DATABASE_URL "
            "(and REDIS_URL), or add a [targets.NAME] table to .streamlit/secrets.toml.")
    st.stop()
st.session_state["_pgpulse_context"] = context
page.run()
