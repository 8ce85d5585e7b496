"""The sidebar every page shares: which target, how often to refresh, pause."""
from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import streamlit as st

from dashboard.config import DEFAULT_SIZE_REFRESH_S, DEFAULT_STATS_REFRESH_S, REFRESH_CHOICES_S, Settings, Target
from dashboard.formatting import human_duration
from queries.connection import describe_target


@dataclass(frozen=True)
class ViewContext:
    target: Target
    refresh_seconds: int  # live views
    paused: bool
    stats_every_s: int = DEFAULT_STATS_REFRESH_S  # settings.stats_refresh_seconds
    sizes_every_s: int = DEFAULT_SIZE_REFRESH_S  # settings.size_refresh_seconds
    time_range: Any = None  # dashboard.history.TimeRange for pages with history; None without a history store

    @property
    def stats_refresh_seconds(self) -> int:
        """Per-table and per-index statistics, catalog checks, settings: never faster than the page."""
        return max(self.refresh_seconds, self.stats_every_s)

    @property
    def size_refresh_seconds(self) -> int:
        """Exact sizes (a stat() per relation file): never faster than the page."""
        return max(self.refresh_seconds, self.sizes_every_s)

    def every_s(self, pace: str) -> int:
        """How often a metric of this pace (queries/catalogue.py) is re-read on this page."""
        from queries.catalogue import PACE_FLOOR_S

        if pace == "stats":
            return self.stats_refresh_seconds
        if pace == "sizes":
            return self.size_refresh_seconds
        return max(self.refresh_seconds, PACE_FLOOR_S.get(pace, 0))

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
        from dashboard.history import render_range_picker  # it reads dashboard.data, which needs this module

        time_range = render_range_picker(int(refresh))
        st.caption(f"Statistics and catalog checks are re-read every {human_duration(settings.stats_refresh_seconds)}, "
                   f"exact sizes every {human_duration(settings.size_refresh_seconds)} (\"Refresh now\" on a page reads "
                   "them at once).")
    return ViewContext(target, int(refresh), paused, settings.stats_refresh_seconds, settings.size_refresh_seconds,
                       time_range)


def current() -> ViewContext:
    return st.session_state["_pgpulse_context"]
