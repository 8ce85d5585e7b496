"""pgpulse: the Streamlit entry point (`streamlit run dashboard/app.py`)."""
import sys
from pathlib import Path

# Streamlit puts this file's folder on sys.path; the packages live one level up.
sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

import streamlit as st  # noqa: E402

from dashboard.auth import require_login  # noqa: E402
from dashboard.components import stop_unless_reachable  # noqa: E402
from dashboard.config import ConfigError  # noqa: E402
from dashboard.data import settings  # noqa: E402
from dashboard.navigation import default_page, pages  # noqa: E402
from dashboard.sidebar import render_sidebar  # noqa: E402

# a local file: a ":material/..." page icon makes the browser fetch the favicon from Google's font service
FAVICON = Path(__file__).resolve().parent / "assets" / "favicon.png"
st.set_page_config(page_title="pgpulse", page_icon=str(FAVICON), layout="wide")
try:
    require_login(settings())
    page = st.navigation(pages(default_page(len(settings().targets))))
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
if page.title != "Fleet":  # the Fleet page reads the history store only
    stop_unless_reachable(context, page.title)  # Explain too: its options need the server's version
page.run()
