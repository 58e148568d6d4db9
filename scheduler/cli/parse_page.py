"""`scout parse-page FILE`: show what the parser reads in a saved store page or search answer."""

from __future__ import annotations

import argparse
import json
import os
import stat
import sys
from pathlib import Path
from typing import Any

from scheduler.catalogue.parse import (
    Listing,
    ParseError,
    parse_search_html,
    parse_search_response,
)
from scheduler.cli.output import CLIError, print_json, terminal_safe

# A search answer of 100 rows is about 200 KB; a saved whole store page a few MB.
MAX_BYTES = 16 * 1024 * 1024


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the parse-page command to the scout parser."""
    parser = subparsers.add_parser(
        "parse-page",
        help="print the rows the parser reads in a saved page, as JSON",
        description="Parse FILE, either an HTML fragment of store rows or a search/results JSON "
        "answer, and print one JSON object per row. Unreadable rows are reported on stderr.",
    )
    parser.add_argument("file", metavar="FILE", type=Path, help="saved HTML or JSON answer")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Print the rows of args.file as a JSON array; raise CLIError if it cannot be read."""
    text = read_text(args.file)
    listings, bad_rows = parse_text(text, args.file)
    print_json([listing_json(listing) for listing in listings])
    for line in bad_rows + [_price_warning(x) for x in listings if not x.price_ok]:
        print(f"scout: warning: {terminal_safe(line)}", file=sys.stderr)
    return 0


def read_text(path: Path, limit: int = MAX_BYTES) -> str:
    """Return a regular file's text (UTF-8); raise CLIError when it is missing, not one, or huge."""
    try:
        # O_NONBLOCK: opening a FIFO must not wait for a writer; fstat judges what was opened.
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK)
        with os.fdopen(fd, "rb") as file:
            info = os.fstat(file.fileno())
            if not stat.S_ISREG(info.st_mode):
                raise CLIError(f"{path} is not a regular file")
            data = file.read(limit + 1)  # a file may grow after fstat
    except OSError as exc:
        raise CLIError(f"cannot read {path}: {exc.strerror or exc}") from None
    if len(data) > limit:
        raise CLIError(f"{path} is larger than {limit // (1024 * 1024)} MiB: not a store page")
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise CLIError(f"{path} is not UTF-8 text (byte {exc.start})") from None


def parse_text(text: str, path: Path) -> tuple[list[Listing], list[str]]:
    """Return the rows of a JSON search answer or of HTML; raise CLIError if there are none."""
    if text.lstrip().startswith(("{", "[")):
        try:
            page = parse_search_response(text, _start_of(text))
        except ParseError as exc:
            raise CLIError(f"{path}: {exc}") from None
        return page.listings, page.bad_rows
    try:
        page = parse_search_html(text)
    except ParseError as exc:
        raise CLIError(f"{path}: {exc}") from None
    return page.listings, page.bad_rows


def _start_of(text: str) -> int:
    """Return the answer's own "start", so the last (empty) page of a catalogue is not an error."""
    try:
        start = json.loads(text).get("start", 0)
    except (ValueError, AttributeError, RecursionError):
        return 0  # parse_search_response says what is wrong with it
    return start if isinstance(start, int) and not isinstance(start, bool) else 0


def listing_json(listing: Listing) -> dict[str, Any]:
    """Return a row in the captures' *.expected.json shape (appid a list for subs)."""
    appid: int | list[int] | None
    if listing.kind == "app":
        appid = listing.steam_id
    else:
        appid = list(listing.appids) or None
    return {
        "itemkey": listing.itemkey,
        "kind": listing.kind,
        "appid": appid,
        "packageid": listing.steam_id if listing.kind == "sub" else None,
        "bundleid": listing.steam_id if listing.kind == "bundle" else None,
        "title": listing.title,
        "final_cents": listing.final_cents,
        "original_cents": listing.original_cents,
        "discount_pct": listing.discount_pct,
        "is_free": listing.is_free,
    }


def _price_warning(listing: Listing) -> str:
    return f"{listing.itemkey}: price {listing.price_text!r} unreadable, shown as null"
