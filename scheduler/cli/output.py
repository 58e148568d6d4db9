"""Shared output helpers for the CLI: aligned tables for people, JSON for scripts."""

from __future__ import annotations

import json
import re
import sys
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any


class CLIError(Exception):
    """An expected failure; main prints str(exc) as one line and exits with .status."""

    def __init__(self, message: str, status: int = 1) -> None:
        super().__init__(message)
        self.status = status


# C0, DEL, C1 and the bidi embeddings, overrides and isolates: stored text (store titles,
# addresses, errors) that a terminal would obey rather than show.
_UNSAFE = re.compile("[\x00-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]")
_UNSAFE_IN_JSON = re.compile("[\x7f-\x9f\u202a-\u202e\u2066-\u2069]")  # json escapes C0


def _escape(match: re.Match[str]) -> str:
    code = ord(match.group())
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def _json_escape(match: re.Match[str]) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str) -> str:
    """Return text with every control character shown as an escape (ESC as \\x1b), never raw."""
    return text if text.isprintable() else _UNSAFE.sub(_escape, text)


def _plain(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.isoformat()
    return value


def print_json(data: Any) -> None:
    """Write data as indented JSON to stdout (datetimes as ISO 8601)."""
    text = json.dumps(data, indent=2, ensure_ascii=False, default=_plain)
    # Written as \\uXXXX escapes like json's own for C0: the same JSON, nothing for a terminal.
    sys.stdout.write(_UNSAFE_IN_JSON.sub(_json_escape, text) + "\n")


# The widest a cell of a table gets: one 500-character title padded every row of `scout games`
# to 564 columns. The last column pads no other, so it may hold more (an alert's error); --json
# has every value whole.
MAX_CELL = 60
MAX_LAST_CELL = 200


def _cell(value: Any, width: int) -> str:
    if value is None:
        return "-"
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%d %H:%M:%S %Z").strip()
    text = terminal_safe(str(value))
    return text if len(text) <= width else text[: width - 1] + "…"


def print_table(
    rows: Iterable[Mapping[str, Any]], columns: Sequence[str], empty: str = "nothing to show"
) -> None:
    """Write rows as a table with one header line, long cells cut with an ellipsis.

    Prints `empty` when there are no rows.
    """
    limits = [MAX_CELL] * (len(columns) - 1) + [MAX_LAST_CELL]
    cells = [[_cell(row.get(c), n) for c, n in zip(columns, limits, strict=True)] for row in rows]
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
