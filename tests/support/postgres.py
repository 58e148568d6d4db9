"""A private PostgreSQL server for tests that stop and restart it (never the shared one)."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from tests.support.ports import free_port, wait_for_port


def _bin(name: str) -> str:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    if not found:
        raise RuntimeError(f"no PostgreSQL {name} under /usr/lib/postgresql/*/bin")
    return found[-1]


class PrivateServer:
    """A PostgreSQL cluster in a temp dir on its own port, run as the postgres user."""

    def __init__(self, root: Path) -> None:
        self.root, self.data, self.port = root, root / "data", free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/scout"

    def _as_postgres(self, *args: str) -> None:
        as_user = ["runuser", "-u", "postgres", "--"] if os.geteuid() == 0 else []
        subprocess.run([*as_user, *args], check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        """Create the cluster and its scout database; the server is left running."""
        self._as_postgres(_bin("initdb"), "-D", str(self.data), "-A", "trust", "-U", "postgres")
        self.start()
        self._as_postgres(_bin("createdb"), "-h", "127.0.0.1", "-p", str(self.port), "scout")

    def start(self) -> None:
        """Start the server and return once it accepts connections."""
        options = f"-p {self.port} -c listen_addresses=127.0.0.1 -k {self.root} -c fsync=off"
        log = str(self.root / "server.log")
        self._as_postgres(
            _bin("pg_ctl"), "-D", str(self.data), "-o", options, "-l", log, "-w", "start"
        )
        wait_for_port(self.port)

    def stop(self) -> None:
        """Stop the server at once: sessions in flight are terminated, as in a restart."""
        self._as_postgres(_bin("pg_ctl"), "-D", str(self.data), "-m", "fast", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivateServer]:
    """Yield a running private server; stop it and remove its files afterwards."""
    root = Path(tempfile.mkdtemp(prefix="scout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(root, "postgres")
    server = PrivateServer(root)
    try:
        server.init()
        yield server
    finally:
        try:
            server.stop()
        except subprocess.CalledProcessError:
            pass  # already stopped
        shutil.rmtree(root, ignore_errors=True)
