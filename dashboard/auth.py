"""Optional login: with a password configured, nothing but the login form shows until it is given.

OIDC providers go through Streamlit's own st.login when an [auth] section is configured in
secrets.toml; the password form covers the simple case.
"""
from __future__ import annotations

import hmac
import time

import streamlit as st

from dashboard.config import Settings

FAILED_LOGIN_DELAY_S = 1.0  # slows guessing without locking anyone out


def password_matches(given: str, expected: str) -> bool:
    """Constant-time comparison, so timing does not reveal how much of a guess was right."""
    return hmac.compare_digest(given.encode(), expected.encode())


def _oidc_configured() -> bool:
    try:
        return "auth" in st.secrets
    except Exception:  # noqa: BLE001 - no secrets file at all
        return False


def require_login(settings: Settings) -> None:
    """Stop the script here until the viewer has logged in (when a login is configured)."""
    if _oidc_configured():
        if not st.user.is_logged_in:
            st.title("pgpulse")
            st.button("Log in", on_click=st.login, type="primary")
            st.stop()
        return
    if not settings.password or st.session_state.get("_pgpulse_logged_in"):
        return
    st.title("pgpulse")
    with st.form("login"):
        given = st.text_input("Password", type="password")
        submitted = st.form_submit_button("Log in", type="primary")
    if submitted:
        if password_matches(given, settings.password):
            st.session_state["_pgpulse_logged_in"] = True
            st.rerun()
        time.sleep(FAILED_LOGIN_DELAY_S)
        st.error("Wrong password.")
    st.stop()
