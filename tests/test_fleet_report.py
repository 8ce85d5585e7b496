"""`report --only fleet` as a subprocess: one row per configured target, polled when no collector stored fresh
figures, from the store when it did; the unreachable one says why, without its password."""
from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pandas as pd

from collector.fleet_report import REPORT_COLUMNS
from demo.postgres import DEMO_SETTINGS
from tests.history_support import collect_once, new_store

ROOT = Path(__file__).resolve().parents[1]
DEAD_URL = "postgresql://monitor:s3cret@127.0.0.1:1/billing"


def fleet_csv(tmp_path: Path, targets: dict, history_url: str | None = None) -> tuple[subprocess.CompletedProcess, pd.DataFrame]:
    env = {key: value for key, value in os.environ.items() if not key.startswith(("PGPULSE_", "DATABASE_URL"))}
    env.update({"PGPULSE_TARGETS": json.dumps(targets), "PGPULSE_SECRETS": str(tmp_path / "none.toml")})
    if history_url:
        env["PGPULSE_HISTORY_URL"] = history_url
    result = subprocess.run([sys.executable, "-m", "dashboard", "report", "--only", "fleet", "--out", str(tmp_path)],
                            cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    path = tmp_path / "fleet.csv"
    return result, (pd.read_csv(path, dtype={"server_version": str}) if path.exists() else pd.DataFrame())


def test_without_a_collector_every_target_is_polled_once(tmp_path, fresh_db):
    result, frame = fleet_csv(tmp_path, {"shop": fresh_db, "billing": DEAD_URL})
    assert result.returncode == 0, result.stderr
    assert list(frame.columns) == REPORT_COLUMNS
    assert frame["target"].tolist() == ["shop", "billing"]  # configuration order
    shop, billing = frame.iloc[0], frame.iloc[1]
    assert (bool(shop["reachable"]), shop["source"], int(shop["max_connections"])) == (
        True, "polled", int(DEMO_SETTINGS["max_connections"]))
    assert shop["server_version"].split(".")[0] in {"14", "15", "16", "17", "18"}
    assert shop["failing_checks"] == 0  # the live checks, judged for the report
    assert (bool(billing["reachable"]), billing["source"]) == (False, "polled")
    assert "database unreachable" in billing["error"]
    assert "s3cret" not in (tmp_path / "fleet.csv").read_text() + result.stdout + result.stderr


def test_fresh_figures_come_from_the_store(tmp_path, pg_admin_url, fresh_db):
    store = new_store(pg_admin_url)
    assert collect_once(store, ("shop", fresh_db))
    result, frame = fleet_csv(tmp_path, {"shop": fresh_db, "billing": DEAD_URL}, store)
    assert result.returncode == 0, result.stderr
    assert list(zip(frame["target"], frame["source"], frame["reachable"], strict=True)) == [
        ("shop", "store", True), ("billing", "polled", False)]  # billing was never collected: polled


def test_fleet_is_written_on_its_own(tmp_path, fresh_db):
    result, _ = fleet_csv(tmp_path, {"shop": fresh_db})
    assert result.returncode == 0
    env = {**os.environ, "PGPULSE_TARGETS": json.dumps({"shop": fresh_db}), "PGPULSE_SECRETS": str(tmp_path / "x.toml")}
    mixed = subprocess.run([sys.executable, "-m", "dashboard", "report", "--only", "fleet", "settings", "--out",
                            str(tmp_path)], cwd=ROOT, capture_output=True, text=True, timeout=120, env=env)
    assert mixed.returncode == 2 and "--only fleet covers every configured target" in mixed.stderr


