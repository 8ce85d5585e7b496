"""The shipped .streamlit/secrets.toml.example: copied as-is it names no database, so the demo still starts."""
import re

from dashboard.config import REPO_ROOT, load_settings

EXAMPLE = REPO_ROOT / ".streamlit" / "secrets.toml.example"


def _copy(tmp_path, text: str):
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    return path


def test_the_example_copied_as_is_names_no_target_and_sets_its_options(tmp_path):
    settings = load_settings(environ={}, secrets_path=_copy(tmp_path, EXAMPLE.read_text()))
    assert settings.targets == () and settings.source == "none"  # `make run` then starts the embedded demo
    assert (settings.refresh_seconds, settings.stats_refresh_seconds, settings.size_refresh_seconds) == (10, 300, 600)


def test_uncommenting_the_one_target_form_gives_exactly_that_target(tmp_path):
    text = re.sub(r"^# (database_url|redis_url) = ", r"\1 = ", EXAMPLE.read_text(), count=2, flags=re.M)
    settings = load_settings(environ={}, secrets_path=_copy(tmp_path, text))
    assert [(t.name, t.database_url, t.redis_url) for t in settings.targets] == [
        ("default", "postgresql://pgpulse_monitor:CHANGE_ME@db.example.com:5432/app?sslmode=require",
         "redis://cache.example.com:6379/0")]


def test_uncommenting_the_several_targets_form_gives_both(tmp_path):
    head, tables = EXAMPLE.read_text().split("# [targets.production]")
    tables, options = tables.split("[pgpulse]")
    text = head + "[targets.production]" + re.sub(r"^# ?", "", tables, flags=re.M) + "[pgpulse]" + options
    settings = load_settings(environ={}, secrets_path=_copy(tmp_path, text))
    assert [t.name for t in settings.targets] == ["production", "staging"]
    assert settings.targets[1].database_url == "postgres://pgpulse_monitor@staging-db:5432/app"
