"""The store page read the plain BeautifulSoup way, through the parser's own row logic.

Not product: scheduler/catalogue/parse.py reads pages with lxml's API (~15x faster). This is
the reference the parser tests hold it to, and the baseline bench/parse.py measures it beside.
"""

from __future__ import annotations

import warnings

from bs4 import (
    BeautifulSoup,
    MarkupResemblesLocatorWarning,
    NavigableString,
    Tag,
    XMLParsedAsHTMLWarning,
)

from scheduler.catalogue.parse import (
    PART_CLASSES,
    ROW_CLASSES,
    STRUCK_TAGS,
    Listing,
    read_rows,
    without_lone_surrogates,
)


def parse_listings_bs4(html: str, features: str = "html.parser") -> tuple[list[Listing], list[str]]:
    """Return the same as parse_listings, read with BeautifulSoup (the plain, slow way)."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", MarkupResemblesLocatorWarning)
        warnings.simplefilter("ignore", XMLParsedAsHTMLWarning)
        soup = BeautifulSoup(without_lone_surrogates(html), features)
    rows = soup.find_all("a", class_=sorted(ROW_CLASSES))
    return read_rows(rows, _found, _text, _split_struck, html)


def _found(row: Tag) -> dict[str, Tag]:
    """Return the first descendant of row carrying each of PART_CLASSES, by class."""
    found = {name: row.find(class_=name) for name in PART_CLASSES}
    return {name: tag for name, tag in found.items() if tag is not None}


def _text(tag: Tag | None) -> str:
    return "" if tag is None else tag.get_text()


def _split_struck(tag: Tag | None) -> tuple[str, str]:
    """Return (text outside struck-through tags, text inside them)."""
    kept: list[str] = []
    struck: list[str] = []
    for string in [] if tag is None else tag.find_all(string=True):
        if type(string) is NavigableString:  # not comments, CDATA or doctypes
            (struck if _is_struck(string, tag) else kept).append(str(string))
    return "".join(kept), "".join(struck)


def _is_struck(string: NavigableString, top: Tag) -> bool:
    for parent in string.parents:
        if parent is top:
            return False
        if parent.name in STRUCK_TAGS:
            return True
    return False
