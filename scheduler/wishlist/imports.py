"""A subscriber's wishlist imports: ask for one, claim it in a worker, apply it, report on it.

The database is the truth: the five minutes between two imports of one person run from the
last import's requested_at row (two requests at once are serialised on the subscriber's row),
a worker claims an import with one conditional UPDATE, and an import's watches, its report and
its status "done" are written in one transaction, so a task run twice, or killed anywhere,
neither adds a watch twice nor reports a watch it added as already watched. Games are matched
to the catalogue (apps) and watched in sets of CHUNK, never one query per item.
Helpers take the session as first argument and never commit.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta

from sqlalchemy import func, or_, select, update
from sqlalchemy.orm import Session

from models.alert import Subscriber
from models.base import rows_changed
from models.game import Game
from models.wishlist import WishlistImport
from scheduler.alerts.inputs import WatchError
from scheduler.alerts.personal import Rule, watch_games
from scheduler.wishlist.profile import ProfileRef

COOLDOWN = timedelta(minutes=5)
RESEND_QUEUED_AFTER = timedelta(minutes=2)  # a queued import whose task the broker lost
STUCK_AFTER = timedelta(minutes=10)  # twice a task's hard time limit: its worker is gone
MAX_ATTEMPTS = 3  # runs of one import; a bug or a poison answer stops there, failed
CHUNK = 1000
SOURCE = "wishlist"
ACTIVE = ("queued", "running")


class TooSoon(WatchError):
    """The subscriber's last import was less than COOLDOWN ago; str() says when to come back."""


@dataclass
class Report:
    """What an import did: its counts, and the app ids it could not find in the catalogue."""

    steamid: int | None = None
    wishlist: int = 0
    added: int = 0
    already_watched: int = 0
    not_in_catalogue: list[int] = field(default_factory=list)
    private_or_empty: bool = False
    profile_private: bool = False

    @classmethod
    def from_json(cls, text: str | None) -> Report:
        """Return the report stored as text (an empty one for None)."""
        return cls(**json.loads(text)) if text else cls()


@dataclass(frozen=True)
class ImportView:
    """One import as the wishlist page shows it."""

    id: int
    profile: str
    status: str
    requested_at: datetime
    finished_at: datetime | None
    error: str | None
    report: Report
    rule: Rule

    @property
    def active(self) -> bool:
        """Whether the import is still queued or running."""
        return self.status in ACTIVE


@dataclass(frozen=True)
class Claimed:
    """What a worker needs to run an import it claimed."""

    id: int
    subscriber_id: int
    profile: ProfileRef
    rule: Rule


def _when(moment: datetime, now: datetime) -> str:
    seconds = max(1, int((moment - now).total_seconds() + 0.999))
    count, unit = (seconds, "second") if seconds < 60 else (-(-seconds // 60), "minute")
    return f"{moment:%H:%M:%S} UTC, in {count} {unit}{'s' if count != 1 else ''}"


def _rule(row: WishlistImport) -> Rule:
    return (row.rule, row.target_cents, row.min_discount_pct)


def request_import(
    session: Session, subscriber_id: int, profile: ProfileRef, rule: Rule, now: datetime
) -> int:
    """Queue an import of profile's wishlist with rule for every game; return its id.

    Raises TooSoon when the subscriber's last import was requested under COOLDOWN ago.
    """
    session.execute(select(Subscriber.id).where(Subscriber.id == subscriber_id).with_for_update())
    last = session.scalar(
        select(func.max(WishlistImport.requested_at)).where(
            WishlistImport.subscriber_id == subscriber_id
        )
    )
    if last is not None and now < last + COOLDOWN:
        raise TooSoon(
            "one wishlist import per 5 minutes: the next can start at "
            f"{_when(last + COOLDOWN, now)}"
        )
    name, target, discount = rule
    row = WishlistImport(
        subscriber_id=subscriber_id,
        profile=profile.canonical,
        rule=name,
        target_cents=target,
        min_discount_pct=discount,
        status="queued",
        attempts=0,
        requested_at=now,
    )
    session.add(row)
    session.flush()
    return row.id


def _profile(canonical: str) -> ProfileRef:
    kind, _, value = canonical.partition("/")
    return ProfileRef(steamid=int(value)) if kind == "profiles" else ProfileRef(name=value)


def claim(session: Session, import_id: int, now: datetime, task_id: str) -> Claimed | None:
    """Take a queued import for task task_id; None if not ours.

    An import another task claimed is ours only once that claim is older than STUCK_AFTER (its
    worker is gone); one this same task claimed is ours again (its retry after an outage).
    """
    taken = session.execute(
        update(WishlistImport)
        .where(
            WishlistImport.id == import_id,
            WishlistImport.attempts < MAX_ATTEMPTS,
            or_(
                WishlistImport.status == "queued",
                (WishlistImport.status == "running")
                & (
                    (WishlistImport.claimed_at < now - STUCK_AFTER)
                    | (WishlistImport.task_id == task_id)
                ),
            ),
        )
        .values(
            status="running",
            claimed_at=now,
            task_id=task_id,
            attempts=WishlistImport.attempts + 1,
        )
    )
    if rows_changed(taken) == 0:
        return None
    row = session.get_one(WishlistImport, import_id)
    return Claimed(row.id, row.subscriber_id, _profile(row.profile), _rule(row))


def _chunks(values: list[int]) -> list[list[int]]:
    return [values[at : at + CHUNK] for at in range(0, len(values), CHUNK)]


def apply_wishlist(
    session: Session, import_id: int, appids: list[int], report: Report, now: datetime
) -> Report | None:
    """Watch the wishlist's games the catalogue has and finish the import; return its report.

    report comes with steamid and privacy filled in. None when the import is no longer
    running here (another run finished it, or the account was deleted).
    """
    row = session.get(WishlistImport, import_id, with_for_update=True)
    if row is None or row.status != "running":
        return None
    rule = _rule(row)
    report.wishlist, report.private_or_empty = len(appids), not appids
    for chunk in _chunks(appids):
        found = session.execute(
            select(Game.steam_id, Game.id).where(Game.kind == "app", Game.steam_id.in_(chunk))
        ).all()
        games = {appid: game_id for appid, game_id in found}
        report.not_in_catalogue += [appid for appid in chunk if appid not in games]
        added = watch_games(session, row.subscriber_id, list(games.values()), rule, SOURCE)
        report.added += len(added)
        report.already_watched += len(games) - len(added)
    row.status, row.finished_at, row.steamid = "done", now, report.steamid
    row.report = json.dumps(asdict(report), separators=(",", ":"))
    return report


def fail(session: Session, import_id: int, error: str, now: datetime) -> bool:
    """Mark a running import failed with one line of why; return whether it was running."""
    failed = session.execute(
        update(WishlistImport)
        .where(WishlistImport.id == import_id, WishlistImport.status == "running")
        .values(status="failed", finished_at=now, error=error[:300])
    )
    return rows_changed(failed) > 0


def resumable(session: Session, now: datetime) -> list[int]:
    """Return imports whose task was lost: queued too long, or claimed by a dead worker.

    An import that has had MAX_ATTEMPTS runs is marked failed instead.
    """
    session.execute(
        update(WishlistImport)
        .where(
            WishlistImport.status == "running",
            WishlistImport.claimed_at < now - STUCK_AFTER,
            WishlistImport.attempts >= MAX_ATTEMPTS,
        )
        .values(
            status="failed",
            finished_at=now,
            error=f"the import did not finish in {MAX_ATTEMPTS} attempts; try again later",
        )
    )
    return list(
        session.scalars(
            select(WishlistImport.id)
            .where(
                WishlistImport.attempts < MAX_ATTEMPTS,
                or_(
                    (WishlistImport.status == "queued")
                    & (WishlistImport.requested_at < now - RESEND_QUEUED_AFTER),
                    (WishlistImport.status == "running")
                    & (WishlistImport.claimed_at < now - STUCK_AFTER),
                ),
            )
            .order_by(WishlistImport.id)
        )
    )


def last_import(session: Session, subscriber_id: int) -> ImportView | None:
    """Return the subscriber's most recent import, or None."""
    row = session.scalars(
        select(WishlistImport)
        .where(WishlistImport.subscriber_id == subscriber_id)
        .order_by(WishlistImport.requested_at.desc(), WishlistImport.id.desc())
        .limit(1)
    ).first()
    if row is None:
        return None
    return ImportView(
        row.id, row.profile, row.status, row.requested_at, row.finished_at, row.error,
        Report.from_json(row.report), _rule(row),
    )  # fmt: skip
