"""Wishlist tasks: run one import, and resend the imports whose task the broker lost.

import_wishlist runs twice safely: it claims its import with a conditional UPDATE (another
delivery finds it running or done and stops; this task's own retry takes it again), asks Steam
outside any transaction, and writes the watches, the report and "done" in one transaction.
A database out of reach is one line and a retry (DatabaseTask). A worker killed in between
leaves the import running; resume_wishlist_imports sends it again once its claim is older
than imports.STUCK_AFTER, and a queued import whose message Redis lost after
imports.RESEND_QUEUED_AFTER.
"""

from __future__ import annotations

import logging
from typing import Any

from celery.exceptions import SoftTimeLimitExceeded

from models import Session, utcnow
from scheduler.app import celery as app
from scheduler.app import current_config
from scheduler.catalogue.polite import FetchError
from scheduler.tasks.outage import DatabaseTask
from scheduler.wishlist import imports
from scheduler.wishlist.answers import GarbageAnswer, ProfileNotFound
from scheduler.wishlist.steam import failure_reason, read_wishlist, steam_client

log = logging.getLogger(__name__)


@app.task(
    bind=True,
    base=DatabaseTask,
    name="scheduler.tasks.wishlist.import_wishlist",
    acks_late=True,
    soft_time_limit=240,
    time_limit=300,
)
def import_wishlist(self: Any, import_id: int) -> dict[str, Any]:
    """Import one wishlist: claim it, ask Steam, watch its games; returns its outcome."""
    with Session.begin() as session:
        claimed = imports.claim(session, import_id, utcnow(), self.request.id)
    if claimed is None:
        return {"import": import_id, "status": "not ours"}
    try:
        wishlist = read_wishlist(steam_client(current_config()), claimed.profile)
    except (ProfileNotFound, GarbageAnswer, FetchError, SoftTimeLimitExceeded) as exc:
        reason = failure_reason(exc, claimed.profile)
        with Session.begin() as session:
            imports.fail(session, import_id, reason, utcnow())
        log.info("wishlist import %s failed: %s", import_id, reason)
        return {"import": import_id, "status": "failed", "error": reason}
    found = imports.Report(steamid=wishlist.steamid, profile_private=wishlist.profile_private)
    with Session.begin() as session:
        report = imports.apply_wishlist(session, import_id, wishlist.appids, found, utcnow())
    if report is None:
        return {"import": import_id, "status": "not ours"}
    log.info(
        "wishlist import %s: %s items, %s added, %s already watched, %s not in the catalogue",
        import_id,
        report.wishlist,
        report.added,
        report.already_watched,
        len(report.not_in_catalogue),
    )
    return {"import": import_id, "status": "done", "added": report.added}


@app.task(
    base=DatabaseTask,
    name="scheduler.tasks.wishlist.resume_wishlist_imports",
    acks_late=True,
    soft_time_limit=60,
    time_limit=90,
    db_retries=0,  # a sweep: the next one, a minute later, is the retry
)
def resume_wishlist_imports() -> dict[str, int]:
    """Send again every import whose task was lost; returns how many."""
    with Session.begin() as session:
        lost = imports.resumable(session, utcnow())
    for import_id in lost:
        import_wishlist.delay(import_id)
    if lost:
        log.info("resent %s wishlist imports whose task was lost", len(lost))
    return {"resent": len(lost)}
