"""What scout says when the database is missing, out of reach or refuses us: one line each, and
the migration hint only when a table is missing."""

from __future__ import annotations

import sqlite3
from urllib.parse import urlsplit

import pytest

from tests.cli.test_catalogue import scout
from tests.support import services
from tests.support.ports import free_port

HINT = "alembic upgrade head"


def one_line(stderr: str) -> str:
    """Return stderr's only line; fail if there are more, or a traceback."""
    assert "Traceback" not in stderr and stderr.count("\n") == 1, stderr
    return stderr.strip()


@pytest.mark.parametrize("command", [["status"], ["games"], ["schedule", "list"]])
def test_a_missing_sqlite_file_is_named_in_one_line_and_nothing_is_created(tmp_path, command):
    missing = tmp_path / "missing" / "dir" / "x.db"

    result = scout(*command, DATABASE_URL=f"sqlite:///{missing}")

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert line.startswith(f"scout: database error: no database file at {missing}"), line
    assert "scout migrate" in line  # what creates it, instead of the table hint
    assert not (tmp_path / "missing").exists()


def test_an_unmigrated_sqlite_file_is_left_as_it_was(tmp_path):
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()

    result = scout("status", DATABASE_URL=f"sqlite:///{empty}")

    assert result.returncode == 1
    assert one_line(result.stderr).endswith(f"(is the schema migrated? run `{HINT}`)")
    with sqlite3.connect(empty) as conn:
        assert conn.execute("SELECT count(*) FROM sqlite_master").fetchone() == (0,)


def test_a_refused_connection_gets_no_migration_hint_and_no_password():
    url = f"postgresql://scout:hunter2@127.0.0.1:{free_port()}/scout"

    result = scout("games", DATABASE_URL=url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert "Connection refused" in line and HINT not in line
    assert "hunter2" not in result.stderr


def test_an_unknown_role_gets_no_migration_hint():
    services.require_postgres()
    parts = urlsplit(services.POSTGRES_ADMIN_URL)
    url = f"postgresql+psycopg://nosuchrole:pw@{parts.hostname}:{parts.port}/test"

    result = scout("games", DATABASE_URL=url)

    assert result.returncode == 1
    line = one_line(result.stderr)
    assert 'role "nosuchrole" does not exist' in line and HINT not in line
