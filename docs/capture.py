"""The README's screenshots: every page of a running demo in headless Chromium at 1440x900, written to docs/.

Run: make screenshots   (or .venv/bin/python docs/capture.py [--url URL] [--warmup SECONDS])
Without --url it uses the running `make run` (from .data/state.json), else starts one of its own in a temporary
folder and lets the workload and the collector run for --warmup seconds first, so the history charts have data.
"""
from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from dashboard.navigation import PAGES  # noqa: E402
from demo.launcher import wait_for_dashboard  # noqa: E402
from demo.postgres import free_port  # noqa: E402
from demo.state import alive, read_state  # noqa: E402
from tests.browser_support import CHROMIUM, CHROMIUM_FLAGS, settle, wait_title  # noqa: E402

DOCS = Path(__file__).resolve().parent
VIEWPORT = {"width": 1440, "height": 900}  # a laptop's screen: what a first-time reader sees without scrolling
# sections further down a page, shot with their heading at the top: docs/<page>-<name>.png
SECTIONS = {"queries-n-plus-one": ("queries", "N+1 suspects"), "indexes-suggested": ("indexes", "Suggested indexes")}
EXPLAINED = ("SELECT p.id, p.title FROM posts p JOIN users u ON u.id = p.author_id "
             "WHERE u.username = 'user_42' ORDER BY p.created_at DESC LIMIT 20")


def running_demo() -> str | None:
    state = read_state()
    if state.get("port") and alive(state.get("launcher_pid")):
        return f"http://127.0.0.1:{state['port']}"
    return None


def capture(url: str) -> list[Path]:
    from playwright.sync_api import sync_playwright

    written = []
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_FLAGS)
        page = browser.new_page(viewport=VIEWPORT)
        for url_path, (_, title, _) in PAGES.items():
            page.goto(f"{url}/{url_path}")
            wait_title(page, title)
            if url_path == "explain":
                page.get_by_role("textbox").first.fill(EXPLAINED)
                page.get_by_role("button", name="Explain").click()
                page.get_by_text("Plan of run").first.wait_for(timeout=60_000)
            settle(page)
            if url_path == "overview" or page.get_by_text("at the next refresh").count():
                # rates and last-interval figures compare two readings: the page's next refresh brings them
                page.wait_for_timeout(12_000)
                settle(page)
            path = DOCS / f"{url_path}.png"
            page.screenshot(path=path)
            written.append(path)
        written += [capture_section(page, url, name, *where) for name, where in SECTIONS.items()]
        browser.close()
    return written


def capture_section(page, url: str, name: str, url_path: str, heading: str) -> Path:
    """The viewport with the section's heading at its top."""
    page.goto(f"{url}/{url_path}")
    wait_title(page, PAGES[url_path][1])
    settle(page)
    section = page.get_by_text(heading, exact=True).first
    section.wait_for(timeout=60_000)
    section.evaluate("element => element.scrollIntoView({block: 'start'})")
    page.wait_for_timeout(1_000)
    path = DOCS / f"{name}.png"
    page.screenshot(path=path)
    return path


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--url", help="a running dashboard (default: the running make run, else one started here)")
    parser.add_argument("--warmup", type=float, default=240, help="seconds a demo started here runs before the shots")
    args = parser.parse_args(argv)
    url = args.url or running_demo()
    if url:
        paths = capture(url)  # each page waits for its title
    else:
        with tempfile.TemporaryDirectory(prefix="pgpulse-screenshots-") as folder:
            port = free_port()
            env = {**os.environ, "PGPULSE_DATA_DIR": folder, "PGPULSE_SECRETS": str(Path(folder) / "none.toml")}
            demo = subprocess.Popen([sys.executable, "-m", "demo", "run", "--port", str(port)], env=env,
                                    cwd=DOCS.parent, stdout=subprocess.DEVNULL, stderr=subprocess.STDOUT)
            try:
                wait_for_dashboard(port, demo, timeout=300)  # the first run seeds the demo database first
                time.sleep(args.warmup)
                paths = capture(f"http://127.0.0.1:{port}")
            finally:
                demo.terminate()
                demo.wait(90)
    for path in paths:
        print(path.relative_to(DOCS.parent))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
