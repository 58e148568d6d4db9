"""Secrets out of paths and URLs before they reach a log line: tokens, addresses, queries.

Tokens travel in paths (/unsubscribe/<token>, /sign-in/<token>), whatever the capitals or the
percent-encoding of the route's name, and a query string may carry anything a visitor typed.
So every segment after a token route, every segment long enough to be a token, and every query
value become "...".
"""

from __future__ import annotations

import re

_AFTER_TOKEN_ROUTE = re.compile(r"(?i)(/(?:unsubscribe|sign-in)/)[^/?#\s\"]+")
_LONG_SEGMENT = re.compile(r"(?<=/)[^/?#\s\"]{20,}")
_QUERY_VALUE = re.compile(r"([?&][^=&#\s\"]*=)[^&#\s\"]*")
_EMAIL_LIKE = re.compile(r"[^/?&=#\s\"]*(?:@|%40)[^/?&=#\s\"]*")


def redact(value: str) -> str:
    """Return value (a path, request line or URL) with tokens, addresses and query values cut."""
    value = _AFTER_TOKEN_ROUTE.sub(r"\1...", value)
    value = _QUERY_VALUE.sub(r"\1...", value)
    value = _EMAIL_LIKE.sub("...", value)
    return _LONG_SEGMENT.sub("...", value)
