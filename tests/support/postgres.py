"""A private PostgreSQL server for tests that stop and restart it (never the shared one).

initdb in a temp dir as the postgres user, on a port of its own, trust auth on 127.0.0.1.
"""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from sqlalchemy import create_engine

from tests.support.smtp import free_port


def _bin(name: str) -> str | None:
    found = sorted(glob.glob(f"/usr/lib/postgresql/*/bin/{name}"))
    return found[-1] if found else shutil.which(name)


class PrivatePostgres:
    """One PostgreSQL cluster in a temp dir that a test may stop and start at will."""

    def __init__(self, directory: Path) -> None:
        self.dir = directory
        self.data = directory / "data"
        self.port = free_port()
        self.url = f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *argv: str) -> None:
        command = list(argv)
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=60)

    def init(self) -> None:
        """Create the cluster."""
        initdb = _bin("initdb")
        assert initdb, "initdb not found"
        self._run(initdb, "-D", str(self.data), "-A", "trust", "-U", "postgres", "--no-sync")

    def start(self) -> None:
        """Start the server and return once it takes connections."""
        options = f"-p {self.port} -k {self.dir} -c listen_addresses=127.0.0.1 -c fsync=off"
        log = str(self.dir / "server.log")  # the server must not hold our pipes open
        pg_ctl = _bin("pg_ctl") or "pg_ctl"
        self._run(pg_ctl, "-D", str(self.data), "-l", log, "-o", options, "-w", "start")

    def stop(self) -> None:
        """Stop the server the way an operator's fast restart does (connections are cut)."""
        self._run(_bin("pg_ctl") or "pg_ctl", "-D", str(self.data), "-m", "fast", "-w", "stop")

    def restart_after(self, seconds: float) -> None:
        """Start the server again after seconds (call from a thread)."""
        time.sleep(seconds)
        self.start()

    def is_running(self) -> bool:
        """Return True when the server answers."""
        engine = create_engine(self.url, connect_args={"connect_timeout": 2})
        try:
            with engine.connect():
                return True
        except Exception:
            return False
        finally:
            engine.dispose()


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """Yield a running private server; it is stopped and deleted afterwards."""
    if _bin("initdb") is None or _bin("pg_ctl") is None:
        pytest.skip("initdb/pg_ctl not installed")
    directory = Path(tempfile.mkdtemp(prefix="scout-pg-"))
    if os.geteuid() == 0:
        shutil.chown(directory, "postgres", "postgres")
    server = PrivatePostgres(directory)
    try:
        server.init()
        server.start()
        yield server
    finally:
        if (server.data / "postmaster.pid").exists():
            server.stop()
        shutil.rmtree(directory, ignore_errors=True)
