"""Discovery: a server entry with `databases = "*"` watches every database of the server (templates and databases
refusing connections aside), filtered by include / exclude glob patterns; each becomes a target "server/dbname".
The collector and the dashboard re-list at the database pace (queries.fleet.fleet_databases reads the list)."""
from __future__ import annotations

from fnmatch import fnmatchcase

from queries.connection import normalize_url


def chosen_databases(names: list[str], *, include: tuple[str, ...] = ("*",), exclude: tuple[str, ...] = ()) -> list[str]:
    """The names matching an include pattern and no exclude pattern (shell globs, case-sensitive), sorted."""
    return sorted(name for name in names
                  if any(fnmatchcase(name, pattern) for pattern in include or ("*",))
                  and not any(fnmatchcase(name, pattern) for pattern in exclude))


def database_url(server_url: str, database: str) -> str:
    """The server's URL pointing at another of its databases (user, password and options kept)."""
    return normalize_url(server_url).set(database=database).render_as_string(hide_password=False)


def discovered_targets(server_name: str, server_url: str, names: list[str], *, include: tuple[str, ...] = ("*",),
                       exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """{"server/dbname": its URL} for the chosen databases of a server."""
    return {f"{server_name}/{name}": database_url(server_url, name)
            for name in chosen_databases(names, include=include, exclude=exclude)}


def listed_targets(engine, server_name: str, server_url: str, *, include: tuple[str, ...] = ("*",),
                   exclude: tuple[str, ...] = ()) -> dict[str, str]:
    """discovered_targets of the server `engine` reads (its databases from queries.fleet.fleet_databases)."""
    from queries.fleet import fleet_databases  # queries.fleet reads through queries.connection: import it when used

    names = fleet_databases(engine)["database_name"].tolist()
    return discovered_targets(server_name, server_url, names, include=include, exclude=exclude)
