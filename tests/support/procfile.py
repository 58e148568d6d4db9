"""The Procfile, read as Heroku reads it."""

from __future__ import annotations

import shlex

from config import PROJECT_ROOT


def processes() -> dict[str, list[str]]:
    """Return each Procfile process type's command, split as a shell would."""
    found: dict[str, list[str]] = {}
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        assert name not in found, f"{name} defined twice"
        found[name] = shlex.split(command)
    return found
