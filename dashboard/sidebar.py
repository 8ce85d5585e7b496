"""The sidebar every page shares: which target, how often to refresh, pause."""
from __future__ import annotations

from dataclasses import dataclass

import streamlit as st

from dashboard.config import REFRESH_CHOICES_S, Settings, Target
from dashboard.formatting import human_duration
from queries.connection import describe_target


@dataclass(frozen=True)
class ViewContext:
    target: Target
    refresh_seconds: int
    paused: bool

    @property
    def run_every(self) -> int | None:
        """Argument for st.fragment(run_every=...): None stops auto-refresh."""
        return None if self.paused else self.refresh_seconds


def render_sidebar(settings: Settings) -> ViewContext | None:
    with st.sidebar:
        if not settings.targets:
            return None
        names = [target.name for target in settings.targets]
        # bound to the URL (?target=NAME) so a link opens the same database
        name = st.selectbox("Target", names, key="target", bind="query-params") if len(names) > 1 else names[0]
        target = settings.target(name)
        st.caption(f"{describe_target(target.database_url)} · from {settings.source}")
        choices = sorted({*REFRESH_CHOICES_S, settings.refresh_seconds})
        refresh = st.selectbox("Refresh every", choices, index=choices.index(settings.refresh_seconds),
                               format_func=human_duration, key="refresh_seconds")
        paused = st.toggle("Pause auto-refresh", key="paused")
    return ViewContext(target, int(refresh), paused)


def current() -> ViewContext:
    return st.session_state["_pgpulse_context"]
