"""Land store pages: fetch, parse and store one page of a scrape run, and plan the others."""

from __future__ import annotations

import logging

from models import Session, utcnow
from scheduler.catalogue import runs as scrape_runs
from scheduler.catalogue.client import FetchError, StoreClient
from scheduler.catalogue.parse import ParseError, SearchPage, parse_search_response
from scheduler.catalogue.persist import upsert_listings

log = logging.getLogger(__name__)


def land_page(
    client: StoreClient, run_id: int, start: int, *, page_size: int, currency: str
) -> SearchPage | None:
    """Fetch, parse and store one page of a run, recording it ok or failed; None if failed."""
    try:
        page = parse_search_response(client.fetch_search_page(start, page_size), start)
    except (FetchError, ParseError) as exc:
        log.warning("scrape run %s: page start=%s failed: %s", run_id, start, exc)
        with Session.begin() as session:
            scrape_runs.record_page(session, run_id, start, now=utcnow(), error=str(exc))
        return None
    with Session.begin() as session:
        result = upsert_listings(
            session, page.listings, currency=currency, run_id=run_id, now=utcnow()
        )
        counts = {
            "seen": result.seen,
            "new": result.new,
            "changed": result.changed,
            "bad": result.bad + len(page.bad_rows),
        }
        scrape_runs.record_page(
            session,
            run_id,
            start,
            now=utcnow(),
            counts=counts,
            error=short_page_error(page, page_size),
        )
    return page


def short_page_error(page: SearchPage, page_size: int) -> str | None:
    """Return why a page that lost rows (cut off mid-row, say) is not whole, else None."""
    expected = max(0, min(page_size, page.total_count - page.start))
    got = len(page.listings) + len(page.bad_rows)
    if got >= expected:
        return None
    detail = f": {page.bad_rows[0]}" if page.bad_rows else ""
    return f"short page: {len(page.listings)} of {expected} rows{detail}"


def page_starts(total_count: int, page_size: int) -> list[int]:
    """Return the start offsets of every page after the first."""
    return list(range(page_size, total_count, page_size))


def chunked(items: list[int], size: int) -> list[list[int]]:
    """Split items into lists of at most size."""
    return [items[i : i + size] for i in range(0, len(items), size)]
