"""The two layout rules of design.md, checked by reading imports."""
import ast
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DRIVERS = {"psycopg", "psycopg2", "asyncpg", "redis"}


def imported_modules(path: Path) -> set[str]:
    modules = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.Import):
            modules |= {alias.name.split(".")[0] for alias in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
            modules.add(node.module.split(".")[0])
    return modules


@pytest.mark.parametrize("path", sorted((ROOT / "queries").rglob("*.py")), ids=lambda p: p.name)
def test_queries_never_imports_streamlit(path):
    assert "streamlit" not in imported_modules(path)


@pytest.mark.parametrize("path", sorted((ROOT / "dashboard").rglob("*.py")), ids=lambda p: str(p.relative_to(ROOT)))
def test_dashboard_never_imports_a_driver_or_holds_sql(path):
    assert not imported_modules(path) & DRIVERS
    source = path.read_text().upper()
    for keyword in ("SELECT ", "FROM PG_", "INSERT INTO", "UPDATE ", "DELETE FROM"):
        assert keyword not in source, f"{path.name} holds SQL ({keyword.strip()})"


def auto_refreshing_fragments(path: Path) -> list[ast.FunctionDef]:
    """The page's functions decorated @st.fragment(run_every=...): they re-read the server on their own."""
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.FunctionDef):
            for decorator in node.decorator_list:
                if (isinstance(decorator, ast.Call) and ast.unparse(decorator.func) == "st.fragment"
                        and any(keyword.arg == "run_every" for keyword in decorator.keywords)):
                    found.append(node)
    return found


# the Fleet page reads the history store only: no monitored server's absence can reach it
SERVER_PAGES = sorted(path for path in (ROOT / "dashboard" / "views").glob("*.py") if path.name != "fleet.py")


@pytest.mark.parametrize("path", SERVER_PAGES, ids=lambda p: p.name)
def test_every_auto_refreshing_panel_becomes_the_banner_when_the_server_goes(path):
    """A server stopping while a page is open: each fragment's first step re-runs the page as the one banner, so its
    panels do not each show the same error (components.rerun_if_unreachable)."""
    for fragment in auto_refreshing_fragments(path):
        first = fragment.body[0]
        assert isinstance(first, ast.Expr) and ast.unparse(first.value) == "rerun_if_unreachable(context)", (
            f"{path.name}: {fragment.name}() does not start with rerun_if_unreachable(context)")
