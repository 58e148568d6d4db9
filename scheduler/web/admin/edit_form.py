"""The entry edit form: the texts an admin typed, as `scout schedule set` takes them.

The form shows every field filled in with the entry as it is; what comes back is read by
scheduler.beat.admin.read_change (the CLI's own reader), and only what differs from the entry
is changed. A field the POST leaves out stays as it is, as an option left off the command line.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from scheduler.beat import admin
from scheduler.beat.calls import short

TRUE, FALSE = {"yes", "true", "on", "1"}, {"no", "false", "off", "0"}


@dataclass(frozen=True)
class EditForm:
    """What the form's fields hold; None for a field the POST did not send."""

    cron: str | None = None
    every: str | None = None
    args: str | None = None
    kwargs: str | None = None
    options: str | None = None
    enabled: str | None = None

    @classmethod
    def of(cls, row: Mapping[str, Any]) -> EditForm:
        """Return the form filled in with an entry as it is (view.entry_row's row)."""
        every = row["schedule"].removeprefix("every ") if row["cron"] is None else ""
        return cls(
            cron=row["cron"] or "",
            every=every,
            args=_json(row["args"]),
            kwargs=_json(row["kwargs"]),
            options=_json(row["options"]),
            enabled="yes" if row["enabled"] else "no",
        )

    @classmethod
    def from_request(cls, form: Any) -> EditForm:
        """Return the texts a POST sent (the last `enabled`: a checkbox after its hidden no)."""
        enabled = form.getlist("enabled")
        return cls(
            cron=form.get("cron"),
            every=form.get("every"),
            args=form.get("args"),
            kwargs=form.get("kwargs"),
            options=form.get("options"),
            enabled=enabled[-1] if enabled else None,
        )

    @property
    def is_enabled(self) -> bool:
        """Whether the form's checkbox is ticked."""
        return (self.enabled or "").strip().lower() in TRUE


def _json(value: Any) -> str:
    try:
        return json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):  # a stored value that is not JSON: show it to be fixed
        return str(value)


def read_form(form: EditForm) -> admin.Change:
    """Return the Change the form asks for; raises admin.FieldError naming the field."""
    cron, every = _schedule(form.cron, form.every)
    return admin.read_change(
        cron=cron,
        every=every,
        args=form.args,
        kwargs=form.kwargs,
        options=form.options,
        enabled=_enabled(form.enabled),
        prefix="",
    )


def _schedule(cron: str | None, every: str | None) -> tuple[str | None, str | None]:
    """Return (cron, every) as `scout schedule set` would get them.

    The page's form sends both fields, one of them empty: the filled one counts, and both
    filled or both empty is one line. A POST with only one of them is read as the CLI reads
    --cron or --every alone (an empty one is refused by the same check).
    """
    if cron is None or every is None:
        return cron, every
    cron, every = cron.strip(), every.strip()
    if cron and every:
        raise admin.FieldError(
            "give a cron line or an interval, not both: empty the other field", "every"
        )
    if not cron and not every:
        raise admin.FieldError(
            "give a cron line (e.g. 0 3 * * *) or an interval (e.g. 30s)", "cron"
        )
    return (cron, None) if cron else (None, every)


def _enabled(text: str | None) -> bool | None:
    if text is None:
        return None
    value = text.strip().lower()
    if value in TRUE | FALSE:
        return value in TRUE
    raise admin.FieldError(f"bad enabled {short(text)}: use yes or no", "enabled")
