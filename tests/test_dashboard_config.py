"""Configuration sources and their order; no URL ever in a repr."""
import pytest

from dashboard.config import ConfigError, load_settings
from dashboard.data import SampleHistory
from queries.overview import ServerSummary


def write(tmp_path, text):
    path = tmp_path / "secrets.toml"
    path.write_text(text)
    return path


def test_environment_wins_over_secrets(tmp_path):
    secrets = write(tmp_path, 'database_url = "postgresql://from-secrets/db"\n')
    settings = load_settings({"DATABASE_URL": "postgresql://from-env/db", "REDIS_URL": "redis://r:6379/0"}, secrets)
    assert settings.source == "environment"
    assert [(t.name, t.database_url, t.redis_url) for t in settings.targets] == [
        ("default", "postgresql://from-env/db", "redis://r:6379/0")]


def test_several_targets_from_secrets_toml(tmp_path):
    secrets = write(tmp_path, """
[targets.production]
database_url = "postgresql://u:topsecret@prod/app"
redis_url = "redis://cache:6379/0"
[targets.staging]
database_url = "postgres://u@staging/app"
[pgpulse]
refresh_seconds = 30
pool_size = 2
""")
    settings = load_settings({}, secrets)
    assert settings.source == "secrets.toml"
    assert [t.name for t in settings.targets] == ["production", "staging"]
    assert settings.target("staging").redis_url is None
    assert settings.target("unknown").name == "production"
    assert (settings.refresh_seconds, settings.pool_size) == (30, 2)
    assert "topsecret" not in repr(settings)


def test_several_targets_from_environment_json():
    settings = load_settings({"PGPULSE_TARGETS": '{"a": "postgresql://h/a", "b": {"database_url": "postgresql://h/b",'
                                                 ' "redis_url": "redis://h:1/0"}}'}, None)
    assert [(t.name, t.database_url, t.redis_url) for t in settings.targets] == [
        ("a", "postgresql://h/a", None), ("b", "postgresql://h/b", "redis://h:1/0")]


@pytest.mark.parametrize("env, message", [
    ({"PGPULSE_TARGETS": "{not json"}, "PGPULSE_TARGETS is not valid JSON"),
    ({"PGPULSE_TARGETS": "[]"}, "must be a JSON object"),
    ({"PGPULSE_TARGETS": '{"a": {"redis_url": "redis://x"}}'}, r"\[targets.a\] in secrets.toml has no database_url"),
    ({"DATABASE_URL": "postgresql://h/a", "PGPULSE_REFRESH_SECONDS": "soon"}, "refresh_seconds must be a whole number"),
    ({"DATABASE_URL": "postgresql://h/a", "PGPULSE_POOL_SIZE": "0"}, "pool_size must be positive"),
])
def test_bad_configuration_says_which_key(env, message, tmp_path):
    with pytest.raises(ConfigError, match=message):
        load_settings(env, tmp_path / "missing.toml")


def test_invalid_toml_is_named(tmp_path):
    with pytest.raises(ConfigError, match="secrets.toml is not valid TOML"):
        load_settings({}, write(tmp_path, "database_url = \n"))


def test_nothing_configured(tmp_path):
    settings = load_settings({}, tmp_path / "missing.toml")
    assert settings.targets == () and settings.source == "none" and settings.target(None) is None


def summary(at, transactions):
    return ServerSummary("18.1", 180001, 1.0, "db", 1, 1, 100, 3, 10, 1, 0.9, transactions, at)


def test_sample_history_returns_the_previous_distinct_sample():
    history = SampleHistory()
    first, second = summary(100.0, 10), summary(110.0, 60)
    assert history.previous("k", first) is None
    assert history.previous("k", second) is first
    assert history.previous("k", second) is first  # another viewer, same interval
    assert history.previous("other", second) is None
