"""Where pgpulse looks: environment variables, then .streamlit/secrets.toml, then nothing.

`make run` with neither starts the embedded demo and hands its URLs over in the environment.
URLs are kept out of every repr so they cannot leak into a page or a log by accident.
"""
from __future__ import annotations

import json
import os
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[1]
DEFAULT_SECRETS = REPO_ROOT / ".streamlit" / "secrets.toml"
REFRESH_CHOICES_S = (2, 5, 10, 30, 60, 300)
# Three paces (README: the options table, and the sidebar paragraph under Pages): live views every refresh;
# per-table and per-index statistics, catalog checks and settings every STATS; exact sizes, which stat() every
# file, every SIZES. Slow panels cost seconds of server time on big catalogs: at these defaults the dashboard
# stays under 1 % of a busy server (bench/README.md).
DEFAULT_REFRESH_S, DEFAULT_STATS_REFRESH_S, DEFAULT_SIZE_REFRESH_S = 10, 300, 600
# History (README: History): the collector's paces and how long the store keeps what it wrote
DEFAULT_HISTORY_STATEMENTS_S, MIN_HISTORY_STATEMENTS_S = 60, 10
DEFAULT_HISTORY_DATABASE_S, DEFAULT_HISTORY_RETENTION_DAYS = 10, 14
# active session sampling: one pg_stat_activity read per sample (README: History, Database load)
DEFAULT_HISTORY_ACTIVITY_S, HISTORY_ACTIVITY_RANGE_S = 1.0, (0.5, 60.0)
# the collector's /metrics for Prometheus (README: Prometheus): off unless a port is set; this machine only by default
DEFAULT_METRICS_HOST = "127.0.0.1"
# setting changes (one pg_settings read) and the target's Redis INFO (README: History, Settings and Cache)
DEFAULT_HISTORY_SETTINGS_S, DEFAULT_HISTORY_REDIS_S = 60, 10
DEFAULT_HISTORY_SIZES_S, DEFAULT_HISTORY_INDEX_SCANS_S = 3600, 600


class ConfigError(ValueError):
    """The configuration is unusable; the message says which key is wrong."""


@dataclass(frozen=True)
class Target:
    """A monitored database, with the Redis that caches for it (optional)."""

    name: str
    database_url: str = field(repr=False)
    redis_url: str | None = field(default=None, repr=False)
    tags: tuple[str, ...] = ()  # `tags = ["prod", "eu"]` (or `group = "prod"`): the Fleet page filters by them


@dataclass(frozen=True)
class ServerEntry:
    """A server whose every database is a target ("NAME/dbname"): `databases = "*"`, with include / exclude globs."""

    name: str
    database_url: str = field(repr=False)
    redis_url: str | None = field(default=None, repr=False)
    tags: tuple[str, ...] = ()
    include: tuple[str, ...] = ("*",)
    exclude: tuple[str, ...] = ()


@dataclass(frozen=True)
class Settings:
    targets: tuple[Target, ...]
    source: str  # "environment", "secrets.toml", "embedded demo" or "none"
    refresh_seconds: int = DEFAULT_REFRESH_S
    stats_refresh_seconds: int = DEFAULT_STATS_REFRESH_S
    size_refresh_seconds: int = DEFAULT_SIZE_REFRESH_S
    pool_size: int = 4
    statement_timeout_ms: int = 5000
    lock_timeout_ms: int = 1000
    allow_actions: bool = False  # cancel / terminate backends, reset statistics: off unless enabled
    password: str | None = field(default=None, repr=False)  # login required when set
    allow_analyze_writes: bool = False  # EXPLAIN ANALYZE of INSERT/UPDATE/DELETE/MERGE (always rolled back)
    cache_redis_url: str | None = field(default=None, repr=False)  # results shared by several dashboard processes
    history_url: str | None = field(default=None, repr=False)  # the history store (PostgreSQL); None: the embedded one
    history_statements_seconds: int = DEFAULT_HISTORY_STATEMENTS_S
    history_database_seconds: int = DEFAULT_HISTORY_DATABASE_S
    history_retention_days: int = DEFAULT_HISTORY_RETENTION_DAYS
    history_activity_seconds: float = DEFAULT_HISTORY_ACTIVITY_S
    metrics_port: int | None = None  # the collector serves /metrics on it when set
    metrics_host: str = DEFAULT_METRICS_HOST
    history_settings_seconds: int = DEFAULT_HISTORY_SETTINGS_S
    history_redis_seconds: int = DEFAULT_HISTORY_REDIS_S
    history_sizes_seconds: int = DEFAULT_HISTORY_SIZES_S
    history_index_scans_seconds: int = DEFAULT_HISTORY_INDEX_SCANS_S
    servers: tuple[ServerEntry, ...] = ()  # discovery: their databases join `targets` (dashboard.data.settings)

    def target(self, name: str | None) -> Target | None:
        by_name = {target.name: target for target in self.targets}
        return by_name.get(name) or (self.targets[0] if self.targets else None)


def _int_setting(raw: object, key: str, default: int) -> int:
    if raw in (None, ""):
        return default
    try:
        value = int(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a whole number, not {raw!r}") from None
    if value <= 0:
        raise ConfigError(f"{key} must be positive, not {value}")
    return value


def _port_setting(raw: object, key: str) -> int | None:
    if raw in (None, ""):
        return None
    port = _int_setting(raw, key, 0)
    if port > 65535:
        raise ConfigError(f"{key} must be a port number from 1 to 65535, not {port}")
    return port


def _seconds_setting(raw: object, key: str, default: float, bounds: tuple[float, float]) -> float:
    if raw in (None, ""):
        return default
    try:
        value = float(raw)
    except (TypeError, ValueError):
        raise ConfigError(f"{key} must be a number of seconds, not {raw!r}") from None
    if not bounds[0] <= value <= bounds[1]:
        raise ConfigError(f"{key} must be between {bounds[0]:g} and {bounds[1]:g} seconds, not {value:g}")
    return value


def _bool_setting(raw: object, key: str) -> bool:
    if raw in (None, ""):
        return False
    if isinstance(raw, bool):
        return raw
    text = str(raw).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off"):
        return False
    raise ConfigError(f"{key} must be true or false, not {raw!r}")


def _targets_from_secrets(secrets: dict) -> tuple[Target, ...]:
    """[targets.NAME] tables, or a top-level database_url / redis_url pair."""
    tables = secrets.get("targets") or {}
    targets = []
    for name, table in tables.items():
        if "databases" in table:  # a server entry (_servers_from_tables)
            continue
        if "database_url" not in table:
            raise ConfigError(f"[targets.{name}] in secrets.toml has no database_url")
        targets.append(Target(name, table["database_url"], table.get("redis_url"), _tags(name, table)))
    if not targets and secrets.get("database_url"):
        targets.append(Target("default", secrets["database_url"], secrets.get("redis_url")))
    return tuple(targets)


def _tags(name: str, table: dict) -> tuple[str, ...]:
    """A target's tags: `tags` (a list of words) and / or `group` (one word)."""
    tags, group = table.get("tags") or [], table.get("group")
    if isinstance(tags, str) or not all(isinstance(tag, str) for tag in tags):
        raise ConfigError(f"tags of target {name} must be a list of words, e.g. tags = [\"prod\", \"eu\"]")
    if group is not None and not isinstance(group, str):
        raise ConfigError(f"group of target {name} must be one word, e.g. group = \"prod\"")
    return tuple(dict.fromkeys([*tags, *([group] if group else [])]))


def _patterns(name: str, table: dict, key: str, default: tuple[str, ...]) -> tuple[str, ...]:
    patterns = table.get(key, list(default))
    if isinstance(patterns, str):
        patterns = [patterns]
    if not all(isinstance(pattern, str) for pattern in patterns):
        raise ConfigError(f"{key} of server {name} must be glob patterns, e.g. {key} = [\"app_*\"]")
    return tuple(patterns)


def _servers_from_tables(tables: dict) -> tuple[ServerEntry, ...]:
    """Target tables with `databases = "*"`: every database of that server, "NAME/dbname" each."""
    servers = []
    for name, table in tables.items():
        if not isinstance(table, dict) or "databases" not in table:
            continue
        if table["databases"] != "*":
            raise ConfigError(f'databases of server {name} must be "*" (every database; narrow it with include / '
                              f'exclude patterns), not {table["databases"]!r}')
        if "database_url" not in table:
            raise ConfigError(f"server {name} has no database_url (any database on that server, e.g. postgres)")
        servers.append(ServerEntry(name, table["database_url"], table.get("redis_url"), _tags(name, table),
                                   _patterns(name, table, "include", ("*",)), _patterns(name, table, "exclude", ())))
    return tuple(servers)


def _json_tables(raw: str) -> dict:
    """PGPULSE_TARGETS='{"prod": {"database_url": "...", "redis_url": "..."}, "staging": "postgres://..."}'"""
    try:
        tables = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise ConfigError(f"PGPULSE_TARGETS is not valid JSON ({exc.msg} at position {exc.pos})") from None
    if not isinstance(tables, dict) or not tables:
        raise ConfigError("PGPULSE_TARGETS must be a JSON object of name -> URL or {database_url, redis_url}")
    return {name: {"database_url": value} if isinstance(value, str) else value for name, value in tables.items()}


def _targets_from_json(raw: str) -> tuple[Target, ...]:
    return _targets_from_secrets({"targets": _json_tables(raw)})


def _history_settings(env, options: dict) -> dict:
    def setting(key: str, default: int) -> int:
        return _int_setting(env.get(f"PGPULSE_{key.upper()}", options.get(key)), key, default)

    statements_s = setting("history_statements_seconds", DEFAULT_HISTORY_STATEMENTS_S)
    if statements_s < MIN_HISTORY_STATEMENTS_S:
        raise ConfigError(f"history_statements_seconds must be at least {MIN_HISTORY_STATEMENTS_S} (reading every "
                          f"statement's counters more often costs the server more than it tells), not {statements_s}")
    return {"history_url": env.get("PGPULSE_HISTORY_URL") or options.get("history_url") or None,
            "history_statements_seconds": statements_s,
            "history_database_seconds": setting("history_database_seconds", DEFAULT_HISTORY_DATABASE_S),
            "history_retention_days": setting("history_retention_days", DEFAULT_HISTORY_RETENTION_DAYS),
            "history_settings_seconds": setting("history_settings_seconds", DEFAULT_HISTORY_SETTINGS_S),
            "history_redis_seconds": setting("history_redis_seconds", DEFAULT_HISTORY_REDIS_S),
            "history_sizes_seconds": setting("history_sizes_seconds", DEFAULT_HISTORY_SIZES_S),
            "history_index_scans_seconds": setting("history_index_scans_seconds", DEFAULT_HISTORY_INDEX_SCANS_S),
            "history_activity_seconds": _seconds_setting(
                env.get("PGPULSE_HISTORY_ACTIVITY_SECONDS", options.get("history_activity_seconds")),
                "history_activity_seconds", DEFAULT_HISTORY_ACTIVITY_S, HISTORY_ACTIVITY_RANGE_S),
            "metrics_port": _port_setting(env.get("PGPULSE_METRICS_PORT", options.get("metrics_port")), "metrics_port"),
            "metrics_host": env.get("PGPULSE_METRICS_HOST") or options.get("metrics_host") or DEFAULT_METRICS_HOST}


def read_secrets(path: Path) -> dict:
    if not path.exists():
        return {}
    try:
        return tomllib.loads(path.read_text())
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError(f"{path.name} is not valid TOML: {exc}") from None


def load_settings(environ: dict | None = None, secrets_path: Path | None = None) -> Settings:
    """Environment first (DATABASE_URL, REDIS_URL, PGPULSE_*), then secrets.toml."""
    env = os.environ if environ is None else environ
    secrets = read_secrets(Path(env.get("PGPULSE_SECRETS") or secrets_path or DEFAULT_SECRETS))
    options = secrets.get("pgpulse", {})
    common = {
        "refresh_seconds": _int_setting(env.get("PGPULSE_REFRESH_SECONDS", options.get("refresh_seconds")),
                                        "refresh_seconds", DEFAULT_REFRESH_S),
        "stats_refresh_seconds": _int_setting(env.get("PGPULSE_STATS_REFRESH_SECONDS", options.get("stats_refresh_seconds")),
                                              "stats_refresh_seconds", DEFAULT_STATS_REFRESH_S),
        "size_refresh_seconds": _int_setting(env.get("PGPULSE_SIZE_REFRESH_SECONDS", options.get("size_refresh_seconds")),
                                             "size_refresh_seconds", DEFAULT_SIZE_REFRESH_S),
        "pool_size": _int_setting(env.get("PGPULSE_POOL_SIZE", options.get("pool_size")), "pool_size", 4),
        "allow_actions": _bool_setting(env.get("PGPULSE_ALLOW_ACTIONS", options.get("allow_actions")), "allow_actions"),
        "statement_timeout_ms": _int_setting(env.get("PGPULSE_STATEMENT_TIMEOUT_MS", options.get("statement_timeout_ms")),
                                             "statement_timeout_ms", 5000),
        "lock_timeout_ms": _int_setting(env.get("PGPULSE_LOCK_TIMEOUT_MS", options.get("lock_timeout_ms")),
                                        "lock_timeout_ms", 1000),
        "cache_redis_url": env.get("PGPULSE_CACHE_REDIS_URL") or options.get("cache_redis_url") or None,
        "password": env.get("PGPULSE_PASSWORD") or options.get("password") or None,
        "allow_analyze_writes": _bool_setting(env.get("PGPULSE_ALLOW_ANALYZE_WRITES", options.get("allow_analyze_writes")),
                                              "allow_analyze_writes"),
        **_history_settings(env, options),
    }
    if env.get("PGPULSE_TARGETS"):
        return Settings(_targets_from_json(env["PGPULSE_TARGETS"]), "environment",
                        servers=_servers_from_tables(_json_tables(env["PGPULSE_TARGETS"])), **common)
    if env.get("DATABASE_URL"):
        source = "embedded demo" if env.get("PGPULSE_EMBEDDED") else "environment"
        name = "demo" if env.get("PGPULSE_EMBEDDED") else "default"
        return Settings((Target(name, env["DATABASE_URL"], env.get("REDIS_URL") or None),), source, **common)
    targets, servers = _targets_from_secrets(secrets), _servers_from_tables(secrets.get("targets") or {})
    return Settings(targets, "secrets.toml" if targets or servers else "none", servers=servers, **common)
