"""Catalogue commands: scrape, games, runs."""

from __future__ import annotations

import argparse


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the catalogue commands to the scout parser."""
