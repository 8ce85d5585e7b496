"""Helpers for the real-browser tests: one `streamlit run dashboard/app.py` per configuration,
waits for a page to finish loading, CSV downloads, metrics and alerts read from the DOM."""
from __future__ import annotations

import csv
import io
import os
import subprocess
import sys
import threading
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit

from dashboard.config import REPO_ROOT
from demo.postgres import free_port

CHROMIUM = "/usr/bin/chromium"
CHROMIUM_FLAGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking"]
SCREENSHOTS = REPO_ROOT / "screenshots"
VIEWPORT = {"width": 1440, "height": 900}  # a laptop's screen, as the first-time user had
EXCEPTION = "[data-testid='stException']"
ERROR_ALERT = "[data-testid='stAlertContentError']"
WARNING_ALERT = "[data-testid='stAlertContentWarning']"


class Dashboard:
    """One dashboard process on a free port, with its output collected for failure messages."""

    def __init__(self, env: dict[str, str], secrets_dir: Path):
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.lines: list[str] = []
        full_env = {"PATH": os.environ["PATH"], "HOME": os.environ.get("HOME", "/root"),
                    "PGPULSE_SECRETS": str(secrets_dir / "no-secrets.toml"), "PGPULSE_REFRESH_SECONDS": "2", **env}
        command = [sys.executable, "-m", "streamlit", "run", "dashboard/app.py", "--server.port", str(self.port),
                   "--server.address", "127.0.0.1", "--server.headless", "true",
                   "--browser.gatherUsageStats", "false", "--server.fileWatcherType", "none"]
        self.process = subprocess.Popen(command, cwd=REPO_ROOT, env=full_env, stdout=subprocess.PIPE,
                                        stderr=subprocess.STDOUT, text=True)
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self) -> None:
        for line in self.process.stdout:
            self.lines.append(line)

    def output(self) -> str:
        return "".join(self.lines)

    def wait_healthy(self, timeout: float = 60) -> Dashboard:
        deadline = time.monotonic() + timeout
        while True:
            assert self.process.poll() is None, f"the dashboard exited:\n{self.output()}"
            try:
                with urllib.request.urlopen(f"{self.url}/_stcore/health", timeout=2) as response:
                    if response.read().decode().strip() == "ok":
                        return self
            except OSError:
                pass
            assert time.monotonic() < deadline, f"no /_stcore/health after {timeout} s:\n{self.output()}"
            time.sleep(0.3)

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(10)


def open_page(browser, url: str, title: str, requested: list[str] | None = None):
    """A new tab at url, once its h1 title is shown; every URL the tab requests is appended to `requested`."""
    context = browser.new_context(viewport=VIEWPORT, accept_downloads=True,
                                  permissions=["clipboard-read", "clipboard-write"])  # cells_across copies cells
    if requested is not None:
        context.on("request", lambda request: requested.append(request.url))
    page = context.new_page()
    page.goto(url)
    wait_title(page, title)
    return page


def outside_requests(requested: list[str]) -> list[str]:
    """The requests that left the machine: a dashboard served on loopback must fetch nothing from outside."""
    return [url for url in requested
            if urlsplit(url).scheme not in ("data", "blob") and urlsplit(url).hostname != "127.0.0.1"]


def wait_title(page, title: str, timeout: float = 60_000) -> None:
    page.locator("h1").filter(has_text=title).first.wait_for(timeout=timeout)


def settle(page, timeout: float = 60_000) -> None:
    """Wait until no skeleton placeholder is left and give canvas grids and plots time to paint."""
    page.wait_for_function("() => document.querySelectorAll(\"[data-testid='stSkeleton']\").length === 0",
                           timeout=timeout)
    page.wait_for_timeout(1500)


def alert_texts(page, selector: str) -> list[str]:
    return [text.strip() for text in page.locator(selector).all_inner_texts()]


def assert_clean(page) -> None:
    """No Streamlit exception box and no error alert anywhere on the page."""
    assert page.locator(EXCEPTION).count() == 0, alert_texts(page, EXCEPTION)
    assert page.locator(ERROR_ALERT).count() == 0, alert_texts(page, ERROR_ALERT)


def metric(page, label: str):
    """The st.metric whose label is exactly `label`."""
    return page.locator("[data-testid='stMetric']").filter(
        has=page.locator("[data-testid='stMetricLabel']").get_by_text(label, exact=True))


def metric_value(page, label: str, timeout: float = 60_000) -> str:
    value = metric(page, label).locator("[data-testid='stMetricValue']").first
    value.wait_for(timeout=timeout)
    return value.inner_text().strip()


def download_csv(page, name: str) -> list[dict]:
    """Click "Download <name>" and parse the file the browser received."""
    button = page.get_by_role("button", name=f"Download {name}")
    button.wait_for(timeout=60_000)
    with page.expect_download(timeout=30_000) as download:
        button.click()
    assert download.value.suggested_filename == name
    return list(csv.DictReader(io.StringIO(Path(download.value.path()).read_text())))


# Streamlit scrolls inside its main container, so full_page alone stops at the viewport's height
_CONTENT_HEIGHT = """() => Math.max(...Array.from(document.querySelectorAll(
    "[data-testid='stMain'], [data-testid='stAppViewContainer'], [data-testid='stSidebarContent']"),
    element => element.scrollHeight))"""


def screenshot(page, name: str) -> Path:
    """The whole page, however long: the viewport is stretched to the content for the shot."""
    SCREENSHOTS.mkdir(exist_ok=True)
    path = SCREENSHOTS / f"{name}.png"
    height = min(int(page.evaluate(_CONTENT_HEIGHT)), 12_000)
    page.set_viewport_size({"width": VIEWPORT["width"], "height": max(height, VIEWPORT["height"])})
    page.wait_for_timeout(800)  # plots and grids re-layout for the new size
    page.screenshot(path=path, full_page=True)
    page.set_viewport_size(VIEWPORT)
    return path


GRID_HEADER_PX = ROW_PX = 35  # st.dataframe's header and row height


def cells_across(page, grid, row: int = 0, step: int = 30) -> list[tuple[int, str]]:
    """(x, the value of the cell there) along one data row, left to right, as far as the window shows without
    scrolling sideways: the grid is a canvas, so each cell is clicked and copied (Ctrl+C) to read it."""
    grid.scroll_into_view_if_needed()
    box = grid.bounding_box()
    right = min(box["x"] + box["width"], page.viewport_size["width"]) - 4
    y = box["y"] + GRID_HEADER_PX + row * ROW_PX + ROW_PX / 2
    found = []
    for x in range(int(box["x"]) + 8, int(right), step):
        page.evaluate("navigator.clipboard.writeText('')")
        page.mouse.click(x, y)
        page.keyboard.press("Control+c")
        page.wait_for_timeout(100)
        found.append((x, page.evaluate("navigator.clipboard.readText()")))
    return found


def column_fits_the_window(cells: list[tuple[int, str]], is_it) -> bool:
    """The column whose cell satisfies is_it starts and ends within the window: a cell of another column follows it."""
    hits = [position for position, (_, value) in enumerate(cells) if is_it(value)]
    return bool(hits) and any(not is_it(value) and value for _, value in cells[hits[-1] + 1:])


def fill_and_commit(page, locator, text: str) -> None:
    """Type into a Streamlit text input / area and commit it (Streamlit sends the value on blur)."""
    locator.click()
    locator.fill(text)
    locator.blur()
    page.wait_for_timeout(300)
