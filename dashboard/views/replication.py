"""Replication: standbys, replication slots (a stale one first), WAL archiving and checkpoints; on a standby, its
WAL receiver and replay lag."""
import streamlit as st

from dashboard.components import (
    panel,
    read_age_caption,
    refresh_now_button,
    rerun_if_unreachable,
    second_reading_note,
    table_with_csv,
)
from dashboard.data import load, sample_history
from dashboard.formatting import human_bytes, human_duration, percent
from dashboard.sidebar import current
from queries.health import Thresholds
from queries.replication import (
    ReplicationSummary,
    archiver,
    checkpoints,
    replication_slots,
    replication_summary,
    stale_slots,
    standbys,
    wal_bytes_per_second_between,
    wal_receiver,
)

context = current()
st.title("Replication")
refresh_now_button(context.target, "r_refresh")
# the health check's threshold, so the page singles out the slots the check warns about
STALE_SLOT_BYTES = Thresholds().max_slot_retained_bytes
# labels and units of every column: dashboard/columns.py; a standby's application_name is its name
COLUMNS = {"application_name": st.column_config.TextColumn("Standby")}
# what explains a row first (its lag, the WAL it keeps), the positions after
FIRST = {"replication": ["application_name", "state", "sync_state", "lag_bytes", "replay_lag_seconds", "send_lag_bytes"],
         "replication_slots": ["slot_name", "slot_type", "active", "retained_wal_bytes", "wal_status",
                               "safe_wal_size_bytes", "inactive_since"]}


def ordered(frame, name: str) -> list[str]:
    return [*FIRST[name], *(column for column in frame.columns if column not in FIRST[name])]


def wal_figures(summary: ReplicationSummary) -> None:
    previous = sample_history().previous(f"wal:{context.target.name}", summary)
    rate = wal_bytes_per_second_between(previous, summary)
    first, second, third, fourth = st.columns(4)
    first.metric("Role", "standby" if summary.in_recovery else "primary",
                 help="in recovery (pg_is_in_recovery)" if summary.in_recovery else "not in recovery (pg_is_in_recovery)")
    second.metric("Replay position" if summary.in_recovery else "WAL position",
                  summary.replay_lsn if summary.in_recovery else summary.current_wal_lsn)
    rate_label = "WAL replayed / s" if summary.in_recovery else "WAL written / s"
    third.metric(rate_label, "–" if rate is None else f"{human_bytes(rate)}/s", help="between the last two refreshes")
    fourth.metric("WAL since stats reset", human_bytes(summary.wal_bytes),
                  help=f"{summary.wal_records:,} records, {summary.wal_fpi:,} full-page images (pg_stat_wal)")
    if rate is None:
        st.caption(second_reading_note(context, f"{rate_label} compares"))


def primary_panels(summary: ReplicationSummary) -> None:
    if not summary.replication_configured:
        st.info("No replication configured: no standby streams from this server and it has no replication slots. "
                f"Standbys (pg_stat_replication) and slots (pg_replication_slots) show here once there are some "
                f"(wal_level {summary.wal_level}, max_wal_senders {summary.max_wal_senders}).",
                icon=":material/info:")
        return
    with panel("Replication slots", heading=False):
        slots = load(replication_slots, context)
        stale_slot_warning(slots)
    with panel("Standbys"):
        frame = load(standbys, context)
        if frame.empty:
            st.caption("No standby is streaming from this server now.")
        table_with_csv(frame, "replication", column_config=COLUMNS, column_order=ordered(frame, "replication"))
    with panel("Replication slots"):
        if slots.empty:
            st.caption("No replication slots.")
        table_with_csv(slots, "replication_slots", column_config=COLUMNS,
                       column_order=ordered(slots, "replication_slots"))


def stale_slot_warning(slots) -> None:
    """The outage this page exists for, above everything else: a slot nobody reads keeping WAL until the disk fills."""
    stale = stale_slots(slots, min_retained_bytes=STALE_SLOT_BYTES)
    if stale.empty:
        return
    names = ", ".join(f"{row.slot_name} ({human_bytes(row.retained_wal_bytes)})" for row in stale.itertuples())
    st.error(f"Inactive replication slots keeping more than {human_bytes(STALE_SLOT_BYTES)} of WAL: {names}. Nothing "
             "reads them, so the disk fills: reconnect their consumer, or drop them with pg_drop_replication_slot().",
             icon=":material/warning:")


def standby_panels(summary: ReplicationSummary) -> None:
    st.info("This server is a standby: it replays its primary's WAL. Sizes, statistics and index usage on the other "
            "pages describe this standby (its own scans and cache), not the primary.", icon=":material/info:")
    left, right = st.columns(2)
    caught_up = summary.replay_lag_seconds == 0
    left.metric("Replay lag", "caught up" if caught_up else human_duration(summary.replay_lag_seconds),
                help="since the last replayed transaction, while received WAL waits to be replayed")
    right.metric("Received, not yet replayed", human_bytes(summary.replay_lag_bytes))
    with panel("WAL receiver"):
        receiver = load(wal_receiver, context)
        if receiver.empty:
            st.warning("No WAL receiver is running: this standby is not streaming from its primary "
                       "(restoring from an archive, or disconnected).", icon=":material/link_off:")
        table_with_csv(receiver, "wal_receiver", column_config=COLUMNS)


def archiving_panel() -> None:
    status = load(archiver, context)
    if status.archive_mode == "off":
        st.caption("WAL archiving is off (archive_mode = off).")
        return
    if status.failing:
        st.error(f"Archiving fails: {status.last_failed_wal} could not be archived and nothing was archived since.",
                 icon=":material/error:")
    left, middle, right = st.columns(3)
    left.metric("Archived", f"{status.archived_count:,}", help=f"last: {status.last_archived_wal or 'none yet'}")
    middle.metric("Failed", f"{status.failed_count:,}", help=f"last: {status.last_failed_wal or 'none'}")
    right.metric("archive_mode", status.archive_mode)
    read_age_caption(archiver, context)


def checkpoints_panel() -> None:
    counts = load(checkpoints, context)
    first, second, third, fourth = st.columns(4)
    first.metric("Checkpoints (timed / requested)", f"{counts.checkpoints_timed:,} / {counts.checkpoints_requested:,}",
                 help="many requested ones mean max_wal_size is too small for the write load")
    second.metric("Requested share", percent(counts.requested_ratio),
                  help=f"checkpoint_timeout {human_duration(counts.checkpoint_timeout_seconds)}, "
                       f"max_wal_size {human_bytes(counts.max_wal_size_bytes)}")
    third.metric("Buffers written by checkpoints", f"{counts.buffers_checkpoint:,}",
                 help=f"write {human_duration(counts.checkpoint_write_time_ms / 1000)}, "
                      f"sync {human_duration(counts.checkpoint_sync_time_ms / 1000)}")
    backends = "" if counts.buffers_backend is None else f" · by backends {counts.buffers_backend:,}"
    fourth.metric("By the background writer", f"{counts.buffers_clean:,}",
                  help=f"stopped at bgwriter_lru_maxpages {counts.maxwritten_clean:,} times{backends}")
    read_age_caption(checkpoints, context)


@st.fragment(run_every=context.run_every)
def replication_page() -> None:
    rerun_if_unreachable(context)
    summary = None
    with panel("Replication", heading=False):
        summary = load(replication_summary, context)
        wal_figures(summary)
    if summary is not None:
        (standby_panels if summary.in_recovery else primary_panels)(summary)
    with panel("WAL archiving"):
        archiving_panel()
    with panel("Checkpoints"):
        checkpoints_panel()


replication_page()
