"""`scout`: the admin console. Each command module registers its subcommands here.

Expected failures (bad arguments, bad config, unreachable services) print one line on stderr
and exit non-zero; they never show a traceback.
"""

from __future__ import annotations

import argparse
import importlib
import sys
from collections.abc import Sequence

from sqlalchemy.exc import SQLAlchemyError

from config import Config, ConfigError
from models.errors import one_line, schema_missing
from scheduler.app import create_app
from scheduler.cli.arguments import ScoutParser
from scheduler.cli.output import CLIError

COMMAND_MODULES = [
    "scheduler.cli.catalogue",
    "scheduler.cli.check",
    "scheduler.cli.watch",
    "scheduler.cli.subscribers",
    "scheduler.cli.parse_page",
    "scheduler.cli.schedule",
    "scheduler.cli.store_sim",
    "scheduler.cli.migrate",
    "scheduler.cli.status",
]


def build_parser() -> argparse.ArgumentParser:
    """Return the parser for every scout command."""
    # Subcommand parsers are built with the same class, so every error line stays short.
    parser = ScoutParser(prog="scout", description="SteamScout admin console.")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND", required=True)
    for name in COMMAND_MODULES:
        importlib.import_module(name).register(subparsers)
    return parser


def main(argv: Sequence[str] | None = None, config: Config | None = None) -> int:
    """Run one scout command with config (default: from the environment); return its status."""
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        if config is not None:
            create_app(config)
        return int(args.func(args) or 0)
    except (CLIError, ConfigError) as exc:
        print(f"scout: error: {exc}", file=sys.stderr)
        return 2 if isinstance(exc, ConfigError) else getattr(exc, "status", 1)
    except SQLAlchemyError as exc:
        hint = " (is the schema migrated? run `alembic upgrade head`)"
        print(
            f"scout: database error: {one_line(exc)}{hint if schema_missing(exc) else ''}",
            file=sys.stderr,
        )
        return 1
    except KeyboardInterrupt:
        print("scout: interrupted", file=sys.stderr)
        return 130
    except BrokenPipeError:
        return 0
