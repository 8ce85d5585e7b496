"""Errors the dashboard shows to people: plain words, a kind, never a password or traceback."""
from __future__ import annotations

import re

# SQLSTATE -> (kind, plain explanation).  Codes from PostgreSQL's errcodes appendix.
_SQLSTATE_MEANING = {
    "57014": ("timeout", "the query was cancelled by statement_timeout"),
    "55P03": ("lock_timeout", "a lock could not be taken within lock_timeout (is a migration holding a lock?)"),
    "42501": ("privilege", "the monitoring role lacks a privilege (GRANT pg_monitor TO the role lets it read "
                           "every statistics view)"),
    "28P01": ("auth", "password authentication failed"),
    "28000": ("auth", "the server refused this role (pg_hba.conf or role settings)"),
    "3D000": ("no_database", "the database does not exist"),
    "42P01": ("missing_relation", "a relation the query needs does not exist"),
    "42883": ("missing_function", "a function the query needs does not exist"),
    "55000": ("prerequisite", "the server is not in the state this query needs"),
    "57P01": ("unreachable", "the server is shutting down (admin shutdown)"),
    "57P03": ("unreachable", "the server is starting up or shutting down"),
    "53300": ("too_many_connections", "the server has no free connection slots"),
}

_URL_CREDENTIALS = re.compile(r"(\w+(?:\+\w+)?://)([^:/@\s]*):([^@\s]*)@")
_PASSWORD_PARAM = re.compile(r"(password\s*=\s*)('[^']*'|\S+)", re.IGNORECASE)
# pg_stat_statements and pg_stat_activity keep a utility statement's literals: CREATE / ALTER ROLE ...
# PASSWORD 'x' and CREATE USER MAPPING ... OPTIONS (password 'x') reach them verbatim
_SQL_PASSWORD = re.compile(r"(\bPASSWORD\s+)(E?'(?:[^']|'')*')", re.IGNORECASE)


def scrub(text: str, *secrets: str | None) -> str:
    """Remove passwords: SQL PASSWORD literals, in URLs, in key=value strings, any secret given literally."""
    text = _SQL_PASSWORD.sub(r"\1'***'", text)
    text = _URL_CREDENTIALS.sub(r"\1\2:***@", text)
    text = _PASSWORD_PARAM.sub(r"\1***", text)
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


class PgPulseError(Exception):
    """An error with a message fit to show a person. Callers catch the subclasses below by type; `kind` names
    the class for logs and tests."""

    kind = "error"

    def __init__(self, message: str, *, kind: str | None = None, sqlstate: str | None = None):
        super().__init__(scrub(message))
        self.message = scrub(message)
        self.kind = kind or self.kind
        self.sqlstate = sqlstate

    def __str__(self) -> str:
        return self.message


class InvalidTargetError(PgPulseError):
    kind = "invalid_url"


class UnsupportedServerError(PgPulseError):
    kind = "unsupported_version"


class ExtensionMissingError(PgPulseError):
    kind = "extension_missing"


class UnreachableError(PgPulseError):
    """The server cannot be reached or refused the connection: every panel of the target fails the same way."""

    kind = "unreachable"


class AuthenticationError(UnreachableError):
    kind = "auth"


class DatabaseMissingError(UnreachableError):
    kind = "no_database"


class TooManyConnectionsError(UnreachableError):
    kind = "too_many_connections"


class StatementTimeoutError(PgPulseError):
    kind = "timeout"


class LockTimeoutError(PgPulseError):
    kind = "lock_timeout"


class CancelledError(PgPulseError):
    kind = "cancelled"


class PrivilegeError(PgPulseError):
    kind = "privilege"


class MissingObjectError(PgPulseError):
    """A relation or function the query needs does not exist (often: an extension is not installed)."""

    kind = "missing_object"


class PrerequisiteError(PgPulseError):
    """The server is not in the state the query needs (e.g. pg_stat_statements not in shared_preload_libraries)."""

    kind = "prerequisite"


class QueryError(PgPulseError):
    kind = "query"


# kind -> class, for translate(); a kind not listed is a plain PgPulseError
_CLASS_OF_KIND = {cls.kind: cls for cls in (
    UnreachableError, AuthenticationError, DatabaseMissingError, TooManyConnectionsError, StatementTimeoutError,
    LockTimeoutError, CancelledError, PrivilegeError, PrerequisiteError, QueryError)}
_CLASS_OF_KIND.update({"missing_relation": MissingObjectError, "missing_function": MissingObjectError})


def _error(message: str, kind: str, sqlstate: str | None = None) -> PgPulseError:
    return _CLASS_OF_KIND.get(kind, PgPulseError)(message, kind=kind, sqlstate=sqlstate)


def _sqlstate_of(exc: BaseException) -> str | None:
    orig = getattr(exc, "orig", None) or exc
    return getattr(orig, "sqlstate", None) or getattr(orig, "pgcode", None)


def _first_line(exc: BaseException) -> str:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig).strip().splitlines()
    return text[0] if text else type(orig).__name__


def translate(exc: BaseException, *, context: str = "") -> PgPulseError:
    """Turn a driver / SQLAlchemy / socket exception into a PgPulseError in plain words."""
    if isinstance(exc, PgPulseError):
        return exc
    sqlstate = _sqlstate_of(exc)
    detail = _first_line(exc)
    prefix = f"{context}: " if context else ""
    if sqlstate == "57014" and "user request" in detail:
        return _error(f"{prefix}the query was cancelled on request — {detail} (SQLSTATE 57014)", "cancelled", sqlstate)
    if sqlstate in _SQLSTATE_MEANING:
        kind, meaning = _SQLSTATE_MEANING[sqlstate]
        return _error(f"{prefix}{meaning} — {detail} (SQLSTATE {sqlstate})", kind, sqlstate)
    if sqlstate:
        return _error(f"{prefix}{detail} (SQLSTATE {sqlstate})", "query", sqlstate)
    if _looks_like_connection_failure(exc):
        return _connection_failure(exc, prefix, detail)
    return PgPulseError(f"{prefix}{type(exc).__name__}: {detail}", kind="error")


# libpq reports refusals at connect time as text without a SQLSTATE: recognise the usual ones
_CONNECT_REFUSALS = (
    ("password authentication failed", "auth", "password authentication failed"),
    ("no password supplied", "auth", "the server asks for a password and none was given"),
    ("does not exist", "no_database", "the database or role does not exist"),
    ("no pg_hba.conf entry", "auth", "pg_hba.conf has no entry allowing this connection"),
    ("too many clients", "too_many_connections", "the server has no free connection slots"),
)


def _connection_failure(exc: BaseException, prefix: str, detail: str) -> PgPulseError:
    orig = getattr(exc, "orig", None) or exc
    text = str(orig)
    for needle, kind, meaning in _CONNECT_REFUSALS:
        if needle in text:
            return _error(f"{prefix}{meaning}: {_fatal_line(text, meaning)}", kind)
    return _error(f"{prefix}database unreachable: {detail}", "unreachable")


def _fatal_line(text: str, meaning: str) -> str:
    """The server's own words (after FATAL:) when libpq wraps them in 'connection ... failed:', without the words
    the meaning already says ("password authentication failed: for user app", not the phrase twice)."""
    fatal = text.rsplit("FATAL:", 1)
    line = fatal[1].strip().splitlines()[0] if len(fatal) == 2 else text.strip().splitlines()[0]
    return line.removeprefix(meaning).strip() or line


def _looks_like_connection_failure(exc: BaseException) -> bool:
    import sqlalchemy.exc

    if isinstance(exc, (ConnectionError, TimeoutError, OSError)):
        return True
    if isinstance(exc, sqlalchemy.exc.OperationalError):
        return True
    return isinstance(exc, sqlalchemy.exc.DBAPIError) and exc.connection_invalidated
