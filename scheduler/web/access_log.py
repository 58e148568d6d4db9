"""gunicorn's access log without secrets: unsubscribe tokens in paths and referrers are cut."""

from __future__ import annotations

import re
from typing import Any

from gunicorn.glogging import Logger

TOKEN_IN_PATH = re.compile(r"(/unsubscribe/)[^/?#\s\"]+")


def redact(value: str) -> str:
    """Return value with every unsubscribe token replaced by '...'."""
    return TOKEN_IN_PATH.sub(r"\1...", value)


class RedactingLogger(Logger):
    """The access log of gunicorn, with every unsubscribe token left out of every field."""

    def atoms(self, *args: Any) -> Any:
        atoms = super().atoms(*args)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
