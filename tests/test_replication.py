"""Replication and WAL on real servers: a primary with a streaming standby made here with pg_basebackup, and an
inactive physical slot retaining WAL; PostgreSQL 18 and 15."""
from __future__ import annotations

import shutil

import psycopg
import pytest

from demo.postgres import DEMO_SETTINGS, Cluster, _make_reachable, free_port
from queries import replication
from queries.connection import make_engine, server_version_num
from queries.health import CheckInputs, Thresholds, failing_archiver, health_checks, replication_lag, stale_replication_slots
from tests.conftest import poll, start_cluster

STANDBY_NAME = "pgpulse_standby"
SLOT = "pgpulse_stale_slot"
# archive_mode needs a restart, archive_command only a reload: start archiving to nowhere, break it later
PRIMARY_SETTINGS = {**DEMO_SETTINGS, "archive_mode": "on", "archive_command": "'true'", "max_wal_senders": "5"}


def base_backup(primary: Cluster, target) -> Cluster:
    """A streaming standby of primary: pg_basebackup into target, standby.signal, primary_conninfo naming it."""
    target.parent.mkdir(parents=True, exist_ok=True)
    target.mkdir(mode=0o700)
    if primary.user:
        _make_reachable(target.parent)
        shutil.chown(target, primary.user, primary.user)
    result = primary._run("pg_basebackup", "-h", "127.0.0.1", "-p", str(primary.port), "-U", "postgres",
                          "-D", str(target), "-X", "stream", "-c", "fast", check=False)
    assert result.returncode == 0, result.stderr
    (target / "standby.signal").touch()
    if primary.user:
        shutil.chown(target / "standby.signal", primary.user, primary.user)
    settings = dict(DEMO_SETTINGS)
    settings["primary_conninfo"] = f"'host=127.0.0.1 port={primary.port} user=postgres application_name={STANDBY_NAME}'"
    # the copied pgpulse.conf names the primary's port: give the standby its own
    return Cluster(primary.bin_dir, target, port=free_port(), settings=settings).start()


@pytest.fixture(scope="module", params=["18", "15"], ids=["pg18", "pg15"])
def pair(request, tmp_path_factory):
    """(primary, standby, primary engine, standby engine), the standby streaming and the stale slot retaining WAL."""
    base = tmp_path_factory.mktemp(f"repl{request.param}")
    primary = start_cluster(request.param, base / "primary", settings=PRIMARY_SETTINGS)
    standby = None
    try:
        standby = base_backup(primary, base / "standby" / "data")
        with psycopg.connect(primary.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_create_physical_replication_slot(%s, true)", (SLOT,))
            conn.execute("CREATE TABLE wal_filler AS SELECT g AS id, md5(g::text) AS note FROM generate_series(1, 20000) g")
        engines = make_engine(primary.url()), make_engine(standby.url())
        yield primary, standby, *engines
        for engine in engines:
            engine.dispose()
    finally:
        if standby is not None:
            standby.stop(mode="immediate")
        primary.stop(mode="immediate")
        shutil.rmtree(base, ignore_errors=True)  # the WAL the stale slot kept: a gigabyte on PostgreSQL 18


def streaming(engine):
    # the LSNs arrive with the standby's first feedback, a moment after it starts streaming
    return poll(lambda: replication.standbys(engine),
                lambda frame: list(frame["state"]) == ["streaming"] and frame["replay_lsn"].notna().all(), 30)


def test_the_primary_lists_its_standby_streaming(pair):
    _, _, primary, _ = pair
    frame = streaming(primary)
    assert frame[["application_name", "state", "sync_state", "client_addr"]].to_dict("records") == [
        {"application_name": STANDBY_NAME, "state": "streaming", "sync_state": "async", "client_addr": "127.0.0.1"}]
    row = frame.iloc[0]
    assert row["sent_lsn"] and row["replay_lsn"] and row["lag_bytes"] >= 0 and row["replay_lag_seconds"] >= 0
    summary = replication.replication_summary(primary)
    assert summary.in_recovery is False and summary.standbys == 1 and summary.slots == 1 and summary.inactive_slots == 1
    assert summary.current_wal_lsn and summary.receive_lsn is None and summary.replay_lag_seconds is None
    assert summary.wal_bytes > 0 and summary.replication_configured


def test_the_inactive_slot_retains_wal_and_the_check_warns_only_below_it(pair):
    _, _, primary, _ = pair
    slots = replication.replication_slots(primary)
    assert list(slots["slot_name"]) == [SLOT]
    slot = slots.iloc[0]
    assert slot["slot_type"] == "physical" and not slot["active"] and slot["restart_lsn"]
    assert slot["retained_wal_bytes"] > 1_000_000  # the 20,000-row table written after the slot was made
    assert slot["wal_status"] == "reserved"
    retained = int(slot["retained_wal_bytes"])

    below = stale_replication_slots(CheckInputs(primary, limits=Thresholds(max_slot_retained_bytes=retained // 2)))
    assert below.status == "warn" and below.value >= retained and below.threshold == retained // 2
    assert "1 inactive slot retaining more than" in below.detail and SLOT in below.detail
    above = stale_replication_slots(CheckInputs(primary))  # the default, 1 GB
    assert above.status == "pass" and above.threshold == 1024 ** 3
    assert above.detail == "no inactive slot retains more than 1,024 MB of WAL (1 slot, 1 inactive)"
    assert list(replication.stale_slots(slots, min_retained_bytes=retained // 2)["slot_name"]) == [SLOT]
    assert replication.stale_slots(slots).empty


def test_the_standby_says_it_is_in_recovery_with_a_receiver_row(pair):
    primary_cluster, _, primary, standby = pair
    streaming(primary)
    summary = replication.replication_summary(standby)
    assert summary.in_recovery is True and summary.current_wal_lsn is None
    assert summary.replay_lsn and summary.receive_lsn and summary.standbys == 0 and summary.slots == 0
    receiver = poll(lambda: replication.wal_receiver(standby), lambda frame: len(frame) == 1, 10)
    assert receiver[["status", "sender_host", "sender_port"]].to_dict("records") == [
        {"status": "streaming", "sender_host": "127.0.0.1", "sender_port": primary_cluster.port}]
    assert "conninfo" not in receiver.columns  # it names the primary's user and options
    assert replication.wal_receiver(primary).empty and replication.standbys(standby).empty


def test_paused_replay_is_lag_on_both_sides(pair):
    primary_cluster, standby_cluster, primary, standby = pair
    streaming(primary)
    # the fixture's table replayed first: the lag in seconds counts from the last transaction replayed
    poll(lambda: replication.replication_summary(standby), lambda s: s.last_replayed_xact_at_epoch is not None, 15)
    with psycopg.connect(standby_cluster.url(), autocommit=True) as conn:
        conn.execute("SELECT pg_wal_replay_pause()")
    try:
        with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
            conn.execute("CREATE TABLE written_while_paused AS SELECT g FROM generate_series(1, 50000) g")
        frame = poll(lambda: replication.standbys(primary), lambda f: int(f["send_lag_bytes"].iloc[0]) == 0
                     and int(f["lag_bytes"].iloc[0]) > 1_000_000, 15)
        assert int(frame["lag_bytes"].iloc[0]) > 1_000_000  # received, not replayed
        on_primary = replication_lag(CheckInputs(primary, limits=Thresholds(max_replication_lag_bytes=1_000_000)))
        assert on_primary.status == "warn" and f"the furthest standby ({STANDBY_NAME}) replays" in on_primary.detail
        assert replication_lag(CheckInputs(primary)).status == "pass"  # 60 s, 1 GB

        summary = poll(lambda: replication.replication_summary(standby), lambda s: s.replay_lag_bytes > 1_000_000, 15)
        assert summary.replay_lag_bytes > 1_000_000 and summary.replay_lag_seconds > 0
        on_standby = replication_lag(CheckInputs(standby, limits=Thresholds(max_replication_lag_bytes=1_000_000)))
        assert on_standby.status == "warn" and on_standby.detail.startswith("this standby replays")
    finally:
        with psycopg.connect(standby_cluster.url(), autocommit=True) as conn:
            conn.execute("SELECT pg_wal_replay_resume()")
    caught_up = poll(lambda: replication.replication_summary(standby), lambda s: s.replay_lag_bytes == 0, 15)
    assert caught_up.replay_lag_seconds == 0 and caught_up.replay_lag_bytes == 0


def test_a_failing_archive_command_warns_until_a_file_is_archived(pair):
    primary_cluster, _, primary, standby = pair
    switch = "SELECT pg_switch_wal()"
    with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE archive_probe (id int)")
        conn.execute(switch)
    working = poll(lambda: replication.archiver(primary), lambda s: s.archived_count > 0, 15)
    assert working.archive_mode == "on" and not working.failing and working.last_archived_wal
    assert failing_archiver(CheckInputs(primary)).status == "pass"
    try:
        with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM SET archive_command = 'false'")
            conn.execute("SELECT pg_reload_conf()")
            conn.execute("INSERT INTO archive_probe VALUES (1)")
            conn.execute(switch)
        broken = poll(lambda: replication.archiver(primary), lambda s: s.failing, 20)
        assert broken.failing and broken.failed_count >= 1 and broken.last_failed_wal > working.last_archived_wal
        verdict = failing_archiver(CheckInputs(primary))
        assert verdict.status == "warn" and verdict.detail.startswith(f"archiving fails: {broken.last_failed_wal} failed")
    finally:
        with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
            conn.execute("ALTER SYSTEM RESET archive_command")  # back to PRIMARY_SETTINGS' 'true'
            conn.execute("SELECT pg_reload_conf()")
            conn.execute("INSERT INTO archive_probe VALUES (2)")
            conn.execute(switch)
    recovered = poll(lambda: replication.archiver(primary), lambda s: not s.failing, 20)
    assert not recovered.failing and recovered.last_archived_wal >= broken.last_failed_wal  # the failed file, at last
    # the standby does not archive (archive_mode off there)
    assert failing_archiver(CheckInputs(standby)).detail == "WAL archiving is off (archive_mode)"


def test_checkpoints_count_a_checkpoint_on_either_version(pair):
    primary_cluster, _, primary, _ = pair
    before = replication.checkpoints(primary)
    with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
        conn.execute("CHECKPOINT")
    after = poll(lambda: replication.checkpoints(primary),
                 lambda c: c.checkpoints_requested > before.checkpoints_requested, 10)
    assert after.checkpoints_requested == before.checkpoints_requested + 1
    assert after.checkpoint_timeout_seconds == 300 and after.max_wal_size_bytes == 1024 ** 3
    with psycopg.connect(primary_cluster.url()) as conn:
        version = int(conn.execute("SHOW server_version_num").fetchone()[0])
    assert (after.buffers_backend is None) == (version >= 170000)


def test_the_catalogue_rows_name_the_replication_page(pair):
    _, _, primary, _ = pair
    rows = health_checks(primary, groups=("live", "catalog")).set_index("check")
    for name in ("Replication lag", "Inactive replication slots", "WAL archiving"):
        assert rows.loc[name, "page"] == "replication"
        assert rows.loc[name, "status"] == "pass", rows.loc[name, "detail"]


@pytest.fixture
def page_env(monkeypatch, tmp_path):
    """AppTest on a target chosen by the test (DATABASE_URL set by it), no Redis, no secrets, caches emptied."""
    import streamlit as st

    monkeypatch.delenv("REDIS_URL", raising=False)
    monkeypatch.delenv("PGPULSE_TARGETS", raising=False)
    monkeypatch.setenv("PGPULSE_SECRETS", str(tmp_path / "none.toml"))
    st.cache_data.clear()
    st.cache_resource.clear()
    yield monkeypatch
    st.cache_data.clear()
    st.cache_resource.clear()


def replication_page():
    from tests.test_app import run_page

    app = run_page("views/replication.py")
    assert not app.exception, app.exception
    assert_columns_in_words(app)
    return app


def assert_columns_in_words(app) -> None:
    """Every column from dashboard/columns.py (LSN, WAL status ...), sizes and durations formatted as on other pages."""
    from dashboard.columns import COLUMNS
    from tests.test_columns import shown_columns

    for name, config in shown_columns(app):
        expected = "Standby" if name == "application_name" else COLUMNS[name].label
        assert config.get("label") == expected, (name, config)
    for element in app.dataframe:
        shown = element.proto.arrow_data.styler.display_values
        assert b".0 s" not in shown  # durations as "1 min 10 s", never "86400.0 s"


def test_the_page_on_the_standby_says_it_is_a_standby(pair, page_env):
    from tests.test_app import texts

    page_env.setenv("DATABASE_URL", pair[1].url())
    app = replication_page()
    metrics = {metric.label: metric.value for metric in app.metric}
    assert metrics["Role"] == "standby"
    assert "This server is a standby" in texts(app) and not app.error
    assert metrics["WAL replayed / s"] == "–" and any(  # one reading so far: the page says when the rate comes
        "WAL replayed / s compares two readings" in str(caption.value) for caption in app.caption)
    receiver = next(frame.value for frame in app.dataframe if "sender_host" in frame.value.columns)
    assert list(receiver["status"]) == ["streaming"]


def retain_over_a_gigabyte(primary_cluster: Cluster) -> None:
    """Past the default 1 GB: a tiny write and a WAL switch, 65 times, move the position 65 segments of 16 MB (the
    primary and the standby each write them out: about 1 GB of disk apiece until the fixture removes them)."""
    with psycopg.connect(primary_cluster.url(), autocommit=True) as conn:
        conn.execute("CREATE TABLE IF NOT EXISTS switch_probe (id int)")
        for step in range(65):
            conn.execute("INSERT INTO switch_probe VALUES (%s)", (step,))
            conn.execute("SELECT pg_switch_wal()")


def test_the_page_shows_the_standby_and_the_slot_and_a_stale_slot_first(pair, page_env):
    primary_cluster, _, primary, _ = pair
    page_env.setenv("DATABASE_URL", primary_cluster.url())
    gigabyte_case = server_version_num(primary) >= 180000  # the gigabyte of WAL on one version only: it costs ~10 s
    if gigabyte_case:
        retain_over_a_gigabyte(primary_cluster)
        retained = int(replication.replication_slots(primary).set_index("slot_name").loc[SLOT, "retained_wal_bytes"])
        assert retained > 1024 ** 3
        verdict = stale_replication_slots(CheckInputs(primary))  # the default threshold
        assert verdict.status == "warn" and verdict.value == retained and SLOT in verdict.detail

    app = replication_page()
    assert {metric.label: metric.value for metric in app.metric}["Role"] == "primary"
    errors = [error.value for error in app.error]
    if gigabyte_case:
        assert len(errors) == 1 and errors[0].startswith(f"Inactive replication slots keeping more than 1.0 GB of WAL: {SLOT} (")
    else:
        assert errors == []  # a few MB retained: listed, not alarming
    tables = [frame.value for frame in app.dataframe]
    assert list(tables[0]["application_name"]) == [STANDBY_NAME]  # the standbys, then the slots
    retained = app.dataframe[1].proto.arrow_data.styler.display_values
    assert b" MB" in retained or b" GB" in retained  # "WAL retained 1.0 GB", not "1.1G"
    assert list(tables[1]["slot_name"]) == [SLOT] and not tables[1]["active"].iloc[0]


def test_the_summaries_travel_through_the_shared_cache_unchanged(pair):
    from queries.shared_cache import decode, encode

    _, _, primary, standby = pair
    for value in (replication.replication_summary(primary), replication.replication_summary(standby),
                  replication.archiver(primary), replication.checkpoints(primary)):
        assert decode(encode(value)) == value
