"""Building blocks every page uses: a panel that turns errors into plain words, and tables
with a CSV download of exactly the rows shown."""
from __future__ import annotations

import time
from collections.abc import Iterator
from contextlib import contextmanager

import pandas as pd
import streamlit as st

from queries.errors import (
    AuthenticationError,
    DatabaseMissingError,
    PgPulseError,
    TooManyConnectionsError,
    UnreachableError,
    UnsupportedServerError,
    scrub,
)


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
                   links: dict[str, list[str]] | None = None, first: list[str] | None = None,
                   empty: str | None = None, notes: dict[str, str] | None = None,
                   link_text: dict[str, str] | None = None) -> None:
    """The table, in people's words (dashboard/columns.py: labels with units, values formatted), and a download of
    the same rows as <name>.csv with the data layer's names and raw numbers. `links` adds link columns to the table
    only (e.g. an Explain link per statement); `first` names the columns that explain a row, shown leftmost. With
    `empty`, a table without rows is that one line instead of an empty grid; `notes` adds a sentence to a column's
    help (why it reads 0, say); `link_text` shows a link column's text by a regular expression over its URL (its
    first group) instead of the column's label."""
    if empty and frame.empty:
        st.caption(empty)
        return
    from dashboard.columns import MISSING, display, label

    shown = frame.assign(**links) if links else frame
    overrides = dict(column_config or {})
    if links:
        overrides.update({column: st.column_config.LinkColumn(label(column),
                                                              display_text=(link_text or {}).get(column, label(column)))
                          for column in links})
        column_order = [*links, *(column_order or frame.columns)]
    if first:
        rest = [column for column in (column_order or shown.columns) if column not in first]
        column_order = [column for column in first if column in shown.columns] + rest
    styled, config = display(shown, overrides)
    for column, note in (notes or {}).items():
        if column in config:
            config[column] = {**config[column], "help": " ".join(filter(None, [config[column].get("help"), note]))}
    st.dataframe(styled, hide_index=True, column_config=config, column_order=column_order, height=height,
                 placeholder=MISSING)
    st.download_button(
        f"Download {name}.csv", frame.to_csv(index=False).encode(), file_name=f"{name}.csv",
        mime="text/csv", key=f"csv_{name}", icon=":material/download:", on_click="ignore",
    )


def tag_columns(frame: pd.DataFrame) -> list[str]:
    """The sqlcommenter tags some row of the frame carries (route, controller, action, file): none when the application
    does not tag its SQL, so an untagged table shows no empty columns."""
    from queries.advisors.sqlcommenter import TAG_COLUMNS

    return [column for column in TAG_COLUMNS if column in frame and frame[column].notna().any()]


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


def confirm_analyze(engine, target, fixes: list[str], tables: list[tuple[str, str]]) -> None:
    """ANALYZE one of `tables` (each with its fix text), only after the viewer confirms (actions are enabled)."""
    from dashboard.data import refresh_now
    from queries.actions import analyze_table

    left, right = st.columns([2, 2])
    chosen = left.selectbox("Table", range(len(tables)), format_func=lambda i: fixes[i], key="analyze_table")
    confirmed = right.checkbox(f"Yes, run {fixes[chosen]}", key="analyze_confirm")
    if right.button("Run ANALYZE", disabled=not confirmed, key="analyze_run", type="primary"):
        try:
            command = analyze_table(engine, *tables[chosen], enabled=True)
        except PgPulseError as exc:
            st.error(str(exc))
            return
        refresh_now(target)  # the statistics panels read the table's new state at once
        st.success(f"{command}: done")


# what to do about each way a target can be out of reach (queries/errors.py's classes, most specific first)
_HOW_TO_FIX = (
    (AuthenticationError, "pgpulse could not log in",
     "Check the user name and password in the target's URL (DATABASE_URL, or database_url in .streamlit/secrets.toml) "
     "and that pg_hba.conf lets this role connect from here."),
    (DatabaseMissingError, "the database or role does not exist",
     "Check the database name and the user name at the end of the target's URL."),
    (TooManyConnectionsError, "the server has no free connection slot",
     "Close idle sessions (the Activity page lists them once pgpulse can connect) or raise max_connections."),
    (UnsupportedServerError, "this server version is not supported", "pgpulse needs PostgreSQL 14 or later."),
    (UnreachableError, "the server cannot be reached",
     "Is PostgreSQL running, and listening on that host and port? Check the host and port in the target's URL "
     "(DATABASE_URL, or database_url in .streamlit/secrets.toml) and any firewall between."),
)


def unreachable_message(target, exc: PgPulseError) -> str:
    """One banner's words: which target, what happened (the server's own words, once), how to fix it."""
    from queries.connection import describe_target

    what, fix = next((what, fix) for cls, what, fix in _HOW_TO_FIX if isinstance(exc, cls))
    said = str(exc)
    for prefix in ("database unreachable: ", "connection failed: ", f"{what}: "):
        said = said.removeprefix(prefix)
    said = said.strip().replace("failed: for user", "failed for user")  # errors.py keeps the meaning apart from the words
    detail = "" if said.lower() == what.lower() else f" The server said: {said}."
    return (f"**Target {target.name} ({describe_target(target.database_url)}): {what}.**{detail}\n\n{fix} "
            "This page shows the figures again as soon as the server answers.")


def probe_target(context) -> None:
    """One round trip per target and refresh interval (a success is cached for the interval, a failure never):
    raises UnreachableError, AuthenticationError ... when no panel of the page could be read."""
    from dashboard.data import reachable

    reachable(context.target.database_url, context.refresh_seconds)


def stop_unless_reachable(context, title: str) -> None:
    """Before a page runs: a target that cannot be reached is the page's title and one banner, not one error per
    panel. The banner re-checks at the page's refresh pace and brings the page back when the server answers."""
    try:
        probe_target(context)
        return
    except (UnreachableError, UnsupportedServerError) as exc:
        found = [exc]  # shown by the banner's first draw; its reruns probe again
    st.title(title)

    @st.fragment(run_every=context.run_every)
    def banner() -> None:
        try:
            if found:
                raise found.pop()
            probe_target(context)
        except (UnreachableError, UnsupportedServerError) as exc:
            st.error(unreachable_message(context.target, exc), icon=":material/cloud_off:")
            return
        st.rerun()  # it answers again: the whole page, with its panels

    banner()
    st.stop()


def rerun_if_unreachable(context) -> None:
    """At the top of a page's auto-refreshing fragment: if the target went away since the page was drawn, run the
    whole page again, so it becomes the one banner instead of an error per panel."""
    try:
        probe_target(context)
    except (UnreachableError, UnsupportedServerError):
        st.rerun()


def second_reading_note(context, what: str = "This figure compares") -> str:
    """Where a figure compares two readings (a rate, the last interval's hit ratio) and only one exists yet."""
    from dashboard.formatting import human_duration

    when = ("when auto-refresh is resumed (or on the next reload)" if context.paused
            else f"at the next refresh, in about {human_duration(context.refresh_seconds)}")
    return f"{what} two readings and the first was just taken: {'they appear' if 'and' in what else 'it appears'} {when}."
