"""Shared output helpers for the CLI: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any


class CLIError(Exception):
    """An expected failure; main prints str(exc) as one line and exits with .status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(data: Any) -> None:
    """Write data as indented JSON to stdout (datetimes as ISO 8601)."""
    json.dump(data, sys.stdout, indent=2, ensure_ascii=False, default=_plain)
    sys.stdout.write("\n")


def _cell(value: Any) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    return str(value)


def print_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], empty: str = "nothing to show"
) -> None:
    """Write rows as a table with one header line; prints `empty` when there are none."""
    cells = [[_cell(row.get(c)) for c in columns] for row in rows]
    if not cells:
        print(empty)
        return
    widths = [max(len(c), *(len(r[i]) for r in cells)) for i, c in enumerate(columns)]
    print("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths, strict=True)).rstrip())
    for r in cells:
        print("  ".join(v.ljust(w) for v, w in zip(r, widths, strict=True)).rstrip())


def format_price(cents: int | None, currency: str, is_free: bool = False) -> str:
    """Return a price for display, e.g. '19.99 USD', 'free' or '-' when there is none."""
    if is_free:
        return "free"
    if cents is None:
        return "-"
    return f"{cents // 100}.{cents % 100:02d} {currency}"
