"""A person's whole story in a real browser, against the service as production runs it: sign
up, search, watch a game from its page (chart and all) and another from the watchlist, get the
digest and follow its links, pause, sign out, unsubscribe (steps: tests/support/story.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import Browser
from tests.support.stack import Stack
from tests.support.story import (
    DROPS,
    WAITS,
    find_the_game,
    follow_the_unsubscribe_link,
    nothing_secret_in_the_access_log,
    pause_the_watch,
    put_it_on_sale,
    read_the_digest,
    receive_the_digest,
    run_the_checks,
    scrape_the_store,
    see_the_sale_on_the_watchlist,
    see_the_used_link_offer_a_new_one,
    see_the_used_link_refused,
    see_the_watch,
    sign_in,
    sign_out,
    unsubscribe,
    watch_a_game,
    watch_from_the_game_page,
)

pytestmark = [pytest.mark.browser, pytest.mark.slow]


def test_a_person_signs_up_watches_games_gets_the_digest_pauses_and_unsubscribes(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    b, email = browser, "ada.lovelace@example.com"
    scrape_the_store(stack)
    link = sign_in(b, stack, email)
    see_the_used_link_refused(b, link, email)
    find_the_game(b, DROPS)
    watch_from_the_game_page(b, DROPS, "a price at or below", DROPS.target)
    assert any("is below the lowest price" in line for line in b.flashes()), "a warning"
    watch_a_game(b, WAITS, "a discount of at least (%)", "40")
    see_the_watch(b, DROPS, now=DROPS.price, rule=f"a price at or below {DROPS.target_shown}")
    see_the_watch(b, WAITS, now=WAITS.price, rule="40% off or more")
    put_it_on_sale(stack, DROPS)
    run_the_checks(stack)
    digest = receive_the_digest(stack, email, DROPS)
    read_the_digest(b, digest, tmp_path, DROPS)
    unsubscribe_link = follow_the_unsubscribe_link(b, digest)
    see_the_sale_on_the_watchlist(b, DROPS)
    pause_the_watch(b, DROPS)
    sign_out(b)
    see_the_used_link_offer_a_new_one(b, link)
    unsubscribe(b, unsubscribe_link, email)
    # The only errors: the used link's own answer (400). No CSP violation, no missing file.
    assert [e for e in b.console_errors() if not e.startswith(f"{link} ")] == []
    nothing_secret_in_the_access_log(stack, email, link, unsubscribe_link)
