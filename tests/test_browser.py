"""`make run` end to end in a real browser: the embedded demo starts, Overview and Queries
show the workload's statements in headless Chromium, a CSV downloads, and stopping leaves no
postgres or redis-server behind.  Screenshots land in screenshots/ (gitignored)."""
from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import psutil
import pytest

from dashboard.config import REPO_ROOT
from demo.postgres import free_port
from tests.browser_support import CHROMIUM, SCREENSHOTS, download_csv

N_PLUS_ONE = re.compile(r"FROM users\s+WHERE users\.id = \$1")  # the lazy load of post.author

pytestmark = pytest.mark.skipif(not Path(CHROMIUM).exists(),
                                reason="Debian's chromium is not installed (.ci/run installs it)")

SINCE_RESET = "Since the last statistics reset"  # the Queries page's switch to pg_stat_statements' own figures


class Demo:
    """One `python -m demo run` (what `make run` calls) with its output collected."""

    def __init__(self, data_dir: Path, port: int):
        env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
               "PGPULSE_DATA_DIR": str(data_dir), "PGPULSE_SECRETS": str(data_dir / "no-secrets.toml")}
        self.data_dir, self.url, self.lines = data_dir, f"http://127.0.0.1:{port}", []
        self.process = subprocess.Popen([sys.executable, "-m", "demo", "run", "--port", str(port)], cwd=REPO_ROOT,
                                        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def wait_running(self, timeout: float = 240) -> None:
        deadline = time.monotonic() + timeout
        while not any("pgpulse is running" in line for line in self.lines):
            assert self.process.poll() is None, "".join(self.lines)
            assert time.monotonic() < deadline, "".join(self.lines)
            time.sleep(0.5)

    def output(self) -> str:
        return "".join(self.lines)


def leftover_servers(data_dir: Path) -> list[str]:
    """postgres or redis-server processes still serving data_dir."""
    found = []
    for process in psutil.process_iter(["name", "cmdline"]):
        cmdline = " ".join(process.info["cmdline"] or [])
        if str(data_dir) in cmdline and process.info["name"] in ("postgres", "redis-server"):
            found.append(cmdline)
    return found


@pytest.fixture(scope="module")
def demo_data_dir(tmp_path_factory) -> Path:
    return tmp_path_factory.mktemp("demo_data")


def test_make_run_serves_pages_and_stops_cleanly(demo_data_dir, browser):
    demo = Demo(demo_data_dir, free_port())
    try:
        demo.wait_running()
        page = browser.new_page(viewport={"width": 1500, "height": 1100}, accept_downloads=True)
        page.goto(demo.url)
        page.get_by_text("statements tracked").wait_for(timeout=60_000)
        page.get_by_role("button", name="Download top_statements.csv").wait_for(timeout=60_000)
        page.wait_for_timeout(1500)  # let the data grid paint before the screenshot
        assert page.get_by_text("Top 5 statements by total time").is_visible()
        assert page.locator("[data-testid='stMetricValue']").first.inner_text().startswith("18.")
        SCREENSHOTS.mkdir(exist_ok=True)
        page.screenshot(path=SCREENSHOTS / "demo_overview.png", full_page=True)

        rows = []
        for _ in range(20):  # the workload needs a few seconds to run its N+1 feed 20 times
            page.goto(f"{demo.url}/queries")
            # with the collector's history the range view comes first; pg_stat_statements' own view is one click away
            page.get_by_text(SINCE_RESET).click(timeout=60_000)
            page.get_by_text("Calls vs mean time").wait_for(timeout=60_000)
            page.wait_for_timeout(1500)
            rows = [row for row in download_csv(page, "statements.csv") if N_PLUS_ONE.search(row["query"])]
            if rows and int(rows[0]["calls"]) >= 20:
                break
            time.sleep(3)
        assert rows and int(rows[0]["calls"]) >= 20, "the N+1 statement is not on the Queries page"
        page.screenshot(path=SCREENSHOTS / "demo_queries.png", full_page=True)
    finally:
        demo.process.send_signal(signal.SIGINT)  # what Ctrl-C in the terminal sends
        demo.process.wait(90)
    assert "pgpulse stopped" in demo.output()
    assert leftover_servers(demo_data_dir) == []


def test_second_run_reuses_the_data_and_make_stop_stops_it(demo_data_dir):
    assert (demo_data_dir / "postgres" / "PG_VERSION").exists(), "the first run left no data to reuse"
    demo = Demo(demo_data_dir, free_port())
    demo.wait_running(timeout=120)
    assert "creating database" not in demo.output()
    env = {"PATH": os.environ["PATH"], "PGPULSE_DATA_DIR": str(demo_data_dir)}
    stopped = subprocess.run([sys.executable, "-m", "demo", "stop"], cwd=REPO_ROOT, env=env,
                             capture_output=True, text=True, timeout=120)
    assert stopped.returncode == 0, stopped.stderr
    demo.process.wait(60)
    assert leftover_servers(demo_data_dir) == []
