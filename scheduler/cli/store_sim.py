"""`scout store-sim`: the simulated store's command where it is installed, else a one-line note.

The simulated store (storesim/) is development apparatus, its own distribution installed only by
scripts/setup-env; a production install has no simulator, so the command says where it lives.
"""

from __future__ import annotations

import argparse

from scheduler.cli.output import CLIError

MISSING = (
    "store-sim belongs to the development install (scripts/setup-env in a checkout); "
    "this install has no simulated store"
)


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add storesim's store-sim command, or a stand-in that explains its absence."""
    try:
        from storesim import cli
    except ModuleNotFoundError as exc:
        if exc.name != "storesim":
            raise
    else:
        cli.register(subparsers)
        return
    # No option is defined here, so prefix_chars="\0" lets any of the real command's options
    # reach run_missing instead of failing as "unrecognized arguments".
    parser = subparsers.add_parser(
        "store-sim", help="(development install only) simulated store", prefix_chars="\0"
    )
    parser.add_argument("ignored", nargs="*", help=argparse.SUPPRESS)
    parser.set_defaults(func=run_missing)


def run_missing(args: argparse.Namespace) -> int:
    """Raise CLIError: this install has no simulated store."""
    raise CLIError(MISSING)
