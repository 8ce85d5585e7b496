"""Replication and WAL on real servers: a primary with a streaming standby made here with pg_basebackup, and an
inactive physical slot retaining WAL; PostgreSQL 18 and 15."""
from __future__ import annotations

import shutil

import psycopg
import pytest

from demo.postgres import DEMO_SETTINGS, Cluster, _make_reachable, free_port
from queries import replication
from queries.connection import make_engine
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
    settings = {key: value for key, value in DEMO_SETTINGS.items()}
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


def streaming(engine):
    return poll(lambda: replication.standbys(engine), lambda frame: list(frame["state"]) == ["streaming"], 30)


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


def test_a_server_without_replication_passes_saying_so(engine):
    inputs = CheckInputs(engine)
    assert stale_replication_slots(inputs).detail == "no replication configured: no replication slots"
    assert replication_lag(inputs).detail == "no replication configured: no standby streams from this server"
    assert stale_replication_slots(inputs).status == replication_lag(inputs).status == "pass"
    summary = replication.replication_summary(engine)
    assert not summary.replication_configured and summary.standbys == summary.slots == 0
    assert replication.standbys(engine).empty and replication.replication_slots(engine).empty


def test_wal_rate_between_two_samples(engine, fresh_db):
    first = replication.replication_summary(engine)
    with psycopg.connect(fresh_db, autocommit=True) as conn:
        conn.execute("CREATE TABLE rate_probe AS SELECT g FROM generate_series(1, 20000) g")
    second = replication.replication_summary(engine)
    rate = replication.wal_bytes_per_second_between(first, second)
    assert rate == (second.wal_position_bytes - first.wal_position_bytes) / (second.sampled_at_epoch - first.sampled_at_epoch)
    assert rate > 0 and replication.wal_bytes_per_second_between(None, second) is None

