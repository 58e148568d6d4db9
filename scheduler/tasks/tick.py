"""A refresh tick's figures and what it holds, carried across a retry (plain data, no I/O)."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field

from scheduler.catalogue.appdetails import PriceAnswer


@dataclass
class Tick:
    """One tick's figures (requests: appdetails requests, a failed one's retries included)."""

    watched: int = 0
    oldest_age_s: int | None = None
    requests: int = 0
    asked: int = 0
    priced: int = 0
    changed: int = 0
    no_price: int = 0
    unknown: int = 0
    bad: int = 0
    missing: int = 0
    failed: int = 0
    claimed_elsewhere: int = 0
    budget_spent: bool = False
    alerts_new: int = 0
    run_id: int | None = None
    db_retries: int = 0
    seconds: float = 0.0

    def count(self, answer: PriceAnswer, changed: int) -> None:
        """Add one answer's buckets."""
        self.priced += len(answer.prices)
        self.changed += changed
        self.no_price += len(answer.no_price)
        self.unknown += len(answer.unknown)
        self.bad += len(answer.bad)
        self.missing += len(answer.missing)

    def line(self) -> str:
        """Return the figures as one key=value line."""
        return " ".join(f"{key}={value}" for key, value in asdict(self).items())


@dataclass
class Held:
    """What a tick holds at a given moment: claimed ids, and an answer asked for but not stored."""

    claimed: list[int] = field(default_factory=list)
    unsaved: PriceAnswer | None = None

    def kept(self) -> list[int]:
        """Return the claimed ids whose answer is unsaved: a retry stores it without asking."""
        return self.claimed if self.unsaved is not None else []
