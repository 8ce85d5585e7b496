"""The README says what the code does: the figures it states and the screenshots it shows."""
import re

from dashboard.config import REPO_ROOT
from dashboard.navigation import PAGES

README = (REPO_ROOT / "README.md").read_text()


def test_the_readme_states_the_seeding_time_the_launcher_prints():
    from demo.launcher import FIRST_SEED_S

    assert re.search(rf"comments in about {FIRST_SEED_S} s\s+on\s+the first run", README), (
        "README's seeding time differs from demo.launcher.FIRST_SEED_S")


def test_the_readme_links_a_screenshot_of_every_page():
    shown = set(re.findall(r"\(docs/([\w-]+)\.png\)", README))
    pages = {name.split("-")[0] for name in shown}  # queries-n-plus-one: a section of the Queries page
    assert pages == set(PAGES), f"pages without a screenshot: {set(PAGES) - pages}; stale: {pages - set(PAGES)}"
    assert all((REPO_ROOT / "docs" / f"{page}.png").is_file() for page in shown), "make screenshots writes them"
