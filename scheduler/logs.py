"""Log lines of figures in a form a log search can use: key=value pairs on one line."""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from typing import Any

_PLAIN = re.compile(r"[\w.:+-]+")


def key_values(figures: Mapping[str, Any]) -> str:
    """Return figures as 'key=value ...'; a value with spaces or quotes is quoted, newlines cut."""
    return " ".join(f"{key}={_value(value)}" for key, value in figures.items())


def _value(value: Any) -> str:
    if isinstance(value, datetime):
        value = value.isoformat()
    text = "none" if value is None else str(value)
    if _PLAIN.fullmatch(text):
        return text
    one_line = " ".join(text.split())[:200]
    return '"' + one_line.replace("\\", "\\\\").replace('"', '\\"') + '"'
