"""The Procfile, read as Heroku reads it."""

from __future__ import annotations

import shlex

from config import PROJECT_ROOT


def commands() -> dict[str, str]:
    """Return each Procfile process type's command line, as the shell that runs it gets it."""
    found: dict[str, str] = {}
    for line in (PROJECT_ROOT / "Procfile").read_text().splitlines():
        name, _, command = line.partition(":")
        assert name not in found, f"{name} defined twice"
        found[name] = command.strip()
    return found


def processes() -> dict[str, list[str]]:
    """Return each Procfile process type's command, split as a shell would."""
    return {name: shlex.split(command) for name, command in commands().items()}
