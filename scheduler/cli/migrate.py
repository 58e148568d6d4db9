"""`scout migrate`: bring the database at DATABASE_URL up to the newest schema.

It runs the Alembic migrations that ship inside the package as `steamscout_migrations` (the
checkout's migrations/ folder), so an install from a wheel needs no checkout and no alembic.ini.
In a checkout, `alembic upgrade head` does the same.
"""

from __future__ import annotations

import argparse
import importlib.util

from scheduler.cli.output import CLIError

PACKAGE = "steamscout_migrations"


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the migrate command to the scout parser."""
    parser = subparsers.add_parser(
        "migrate", help="upgrade the database to the newest schema (alembic upgrade head)"
    )
    parser.set_defaults(func=cmd_migrate)


def migrations_dir() -> str:
    """Return the folder holding env.py and versions/; raise CLIError if it is not installed."""
    spec = importlib.util.find_spec(PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise CLIError(f"the migrations are not installed ({PACKAGE} is missing); reinstall")
    return list(spec.submodule_search_locations)[0]


def cmd_migrate(args: argparse.Namespace) -> int:
    """Run every migration not yet applied; raise CLIError when Alembic refuses."""
    from alembic import command
    from alembic.config import Config
    from alembic.util import CommandError

    cfg = Config()
    cfg.set_main_option("script_location", migrations_dir())
    cfg.set_main_option("path_separator", "os")
    try:
        command.upgrade(cfg, "head")
    except CommandError as exc:
        raise CLIError(f"migrate: {str(exc).strip().splitlines()[0]}") from None
    print("database schema is at the newest revision (head)")
    return 0
