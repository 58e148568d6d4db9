"""gunicorn's access log without secrets: tokens, addresses and query values are cut."""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from scheduler.web.redact import redact

__all__ = ["RedactingLogger", "redact"]


class RedactingLogger(Logger):
    """The access log of gunicorn, with every token left out of every field."""

    def atoms(self, *args: Any) -> Any:
        atoms = super().atoms(*args)
        return {
            key: redact(value) if isinstance(value, str) else value for key, value in atoms.items()
        }
