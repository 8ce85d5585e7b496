"""Building blocks every page uses: a panel that turns errors into plain words, and tables
with a CSV download of exactly the rows shown."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from queries.errors import PgPulseError, scrub


def error_text(exc: BaseException) -> str:
    if isinstance(exc, PgPulseError):
        return str(exc)
    return scrub(f"{type(exc).__name__}: {exc}")


@contextmanager
def panel(title: str | None = None, *, heading: bool = True) -> Iterator[None]:
    """Render a section; if its data can't be had, say why here and let the page go on. With
    heading=False the title only names the panel in errors (its heading was drawn ahead of it)."""
    if title and heading:
        st.subheader(title)
    try:
        yield
    except PgPulseError as exc:
        st.error(f"{title or 'This panel'} is unavailable: {exc}", icon=":material/error:")
    except Exception as exc:  # noqa: BLE001 - one panel must never take the page down
        st.error(f"{title or 'This panel'} failed: {error_text(exc)}", icon=":material/error:")


def table_with_csv(frame: pd.DataFrame, name: str, *, column_config: dict | None = None,
                   column_order: list[str] | None = None, height: int | str = "auto",
                   links: dict[str, list[str]] | None = None) -> None:
    """The table and a download of the same rows as <name>.csv; `links` adds link columns to the
    table only (e.g. an Explain link per statement), not to the CSV."""
    shown = frame.assign(**links) if links else frame
    if links:
        column_config = {**(column_config or {}), **{column: st.column_config.LinkColumn(
            column.title(), display_text=column.title()) for column in links}}
        column_order = [*links, *(column_order or frame.columns)]
    st.dataframe(shown, hide_index=True, column_config=column_config, column_order=column_order, height=height)
    st.download_button(
        f"Download {name}.csv", frame.to_csv(index=False).encode(), file_name=f"{name}.csv",
        mime="text/csv", key=f"csv_{name}", icon=":material/download:", on_click="ignore",
    )


def read_age_caption(read, context, *, what: str = "", **kwargs) -> None:
    """Under a slow panel, after its `load(read, context, **kwargs)`: how old its figures are, so nobody takes a
    9-minute-old size for live."""
    from dashboard.data import reading
    from queries.catalogue import metric_of

    every_seconds = context.every_s(metric_of(read).pace)
    age_caption(time.time() - reading(read, context, **kwargs).read_at, every_seconds, what=what)


def age_caption(seconds_ago: float, every_seconds: int, *, what: str = "") -> None:
    """'Read 12 s ago; re-read every 5 min.'"""
    from dashboard.formatting import human_duration

    if seconds_ago < 2:
        age = "just now"
    else:  # whole seconds: "read 12 s ago", not "12.0 s"
        age = f"{int(seconds_ago)} s ago" if seconds_ago < 60 else f"{human_duration(int(seconds_ago))} ago"
    st.caption(f"{what}{': r' if what else 'R'}ead {age}; re-read every {human_duration(every_seconds)}.")


def refresh_now_button(target, key: str) -> None:
    """Read everything of this target again at once, slow panels included (for every viewer)."""
    from dashboard.data import refresh_now

    if st.button("Refresh now", key=key, icon=":material/refresh:",
                 help="Statistics and sizes are re-read every few minutes: read them from the server now"):
        refresh_now(target)


def confirm_action(engine) -> None:
    """Cancel / terminate one backend, only after the viewer confirms (actions are enabled)."""
    from queries.actions import cancel_backend, terminate_backend

    left, middle, right = st.columns([1, 1, 2])
    pid = left.number_input("Backend pid", min_value=1, step=1, key="action_pid")
    action = middle.radio("Action", ["cancel query", "terminate session"], key="action_kind")
    confirmed = right.checkbox(f"Yes, {action} of pid {pid}", key="action_confirm")
    if right.button("Run", disabled=not confirmed, key="action_run", type="primary"):
        function = cancel_backend if action == "cancel query" else terminate_backend
        try:
            done = function(engine, int(pid), enabled=True)
        except PgPulseError as exc:
            st.error(str(exc))
            return
        (st.success if done else st.warning)(f"{action} of pid {pid}: {'done' if done else 'no such backend'}")
