"""argparse types for the CLI's numeric arguments: whole numbers within a stated range."""

from __future__ import annotations

import argparse
import re
from collections.abc import Callable
from typing import NoReturn

# Far above any catalogue or alert list, far below what a database integer holds.
MAX_LIMIT = 1_000_000
_WHOLE = re.compile(r"[+-]?[0-9]{1,30}")


class ScoutParser(argparse.ArgumentParser):
    """An ArgumentParser whose error line stays one short line whatever was typed."""

    MAX_MESSAGE = 300

    def error(self, message: str) -> NoReturn:
        """Print usage and the error (cut to MAX_MESSAGE characters); exit with status 2."""
        # argparse quotes the argument it refuses: "-h" + 5,000 characters came back whole.
        if len(message) > self.MAX_MESSAGE:
            message = f"{message[: self.MAX_MESSAGE - 60]}... ({len(message):,} characters)"
        super().error(message)


def read_whole(text: str) -> int | None:
    """Return the whole number text spells in ASCII digits (sign, spaces around), else None."""
    # int() alone would also take "١٢" and "1_000", and 5,000 digits.
    text = text.strip()
    return int(text) if _WHOLE.fullmatch(text) else None


def int_between(low: int, high: int) -> Callable[[str], int]:
    """Return an argparse type for a whole number in [low, high]; it raises ArgumentTypeError."""

    def parse(text: str) -> int:
        value = read_whole(text)
        shown = repr(text.strip()) if len(text) <= 24 else f"{text.strip()[:20]!r}..."
        if value is None:
            raise argparse.ArgumentTypeError(f"{shown} is not a whole number")
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{shown} must be {low} to {high:,}")
        return value

    parse.__name__ = "whole number"  # argparse names the type in its messages
    return parse


def text_at_most(length: int, what: str) -> Callable[[str], str]:
    """Return an argparse type for text of at most length characters; else ArgumentTypeError."""

    def parse(text: str) -> str:
        # The parsers behind these quote what they refuse: a 5,000-character one, whole.
        if len(text) > length:
            raise argparse.ArgumentTypeError(
                f"{text[:20]!r}... is {len(text):,} characters; {what} has at most {length}"
            )
        return text

    parse.__name__ = what
    return parse
