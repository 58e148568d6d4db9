"""The admin console in a real browser, against the service as production runs it plus a real
beat (the Procfile's line, for the tests that need one): an admin changes a cron entry and the
running beat follows within a second, disables it and it stops firing, runs the scrape now and
the worker runs it, and the audit names the admin; bad edits show one line and store nothing;
everyone else gets the site's 404 page on every admin URL; a sign-in older than 12 hours is
asked again (steps: tests/support/admin_story.py and admin_gate.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from urllib.parse import parse_qs, urlsplit

import pytest

from tests.support.admin_gate import (
    admin_urls,
    see_the_missing_page_everywhere,
    sign_in_made,
    still_as_it_was,
    subscriber_id,
)
from tests.support.admin_story import (
    BAD_EDITS,
    EVERY,
    PROBE,
    YEARLY,
    add_entry,
    change_the_schedule,
    disable_it,
    find_a_subscriber,
    open_the_console,
    open_the_entry,
    run_the_scrape_now,
    see_the_run,
    see_who_changed_it,
    type_a_bad_edit,
)
from tests.support.app import AppUnderTest
from tests.support.browser import Browser
from tests.support.processes import Proc
from tests.support.stack import ADMIN_EMAIL, Stack
from tests.support.story import ask_for_a_sign_in_link, open_the_link, sign_in, sign_out

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ENTRY = "check-watchlists"  # a default entry: every database has it


@pytest.fixture
def beat(stack: Stack) -> Iterator[Proc]:
    """The Procfile's beat on the stack, with the test's entry in the schedule; stopped after."""
    add_entry(stack, PROBE, "--cron", YEARLY)
    with stack.beat() as running:
        yield running


def test_an_admin_changes_disables_and_runs_entries_and_a_running_beat_follows(
    browser: Browser, stack: Stack, beat: Proc
) -> None:
    b = browser
    sign_in(b, stack, ADMIN_EMAIL)
    open_the_console(b, beat)
    open_the_entry(b, PROBE)
    applied = change_the_schedule(b, stack, beat)
    print(f"beat applied the edit {applied.reloaded:.3f} s after the save, first send "
          f"{applied.first_send:.3f} s after the click (due {EVERY} s after the save)")  # fmt: skip
    disable_it(b, stack, beat)
    see_who_changed_it(b, ADMIN_EMAIL)
    run_id = run_the_scrape_now(b, stack, ADMIN_EMAIL)
    see_the_run(b, run_id)
    find_a_subscriber(b, ADMIN_EMAIL)
    assert "Traceback" not in beat.text and "ERROR" not in beat.text


def test_a_bad_edit_in_the_form_shows_one_line_and_stores_nothing(
    browser: Browser, stack: Stack
) -> None:
    b, name = browser, "admin-bad-edits"
    add_entry(stack, name, "--every", "1h")
    sign_in(b, stack, ADMIN_EMAIL)
    for number, (label, value, words) in enumerate(BAD_EDITS):
        type_a_bad_edit(b, stack, name, label, value, words)
        if number == 0:
            b.snap("admin-entry-error")
    # Only the refused saves' own answers (400) in the console.
    refused = f"{stack.url}/admin/schedule/{name} - Failed to load resource: the server "
    assert [e for e in b.console_errors() if not e.startswith(refused)] == []


def test_a_non_admin_and_a_signed_out_visitor_get_the_missing_page_on_every_admin_url(
    browser: Browser, stack: Stack, scout_app: AppUnderTest
) -> None:
    b, email = browser, "not.an.admin@example.com"
    sign_in(b, stack, email)
    values = {"name": ENTRY, "run_id": 1, "subscriber_id": subscriber_id(stack, email)}
    urls = admin_urls(scout_app.app, values)
    assert not [a for a in b.find_all("header.site a") if a.text == "Admin"], "no Admin link"
    token = str(b.find("header.site input[name=csrf_token]").get_attribute("value"))
    see_the_missing_page_everywhere(b, urls, token)
    b.open("/watchlist")  # a missing page shows nobody signed in, so no Sign out button
    sign_out(b)
    token = str(b.find("main input[name=csrf_token]").get_attribute("value"))
    see_the_missing_page_everywhere(b, urls, token)
    still_as_it_was(stack, ENTRY, email)


def test_an_admin_signed_in_over_12_hours_ago_signs_in_again_and_comes_back(
    browser: Browser, stack: Stack
) -> None:
    b, path = browser, f"/admin/schedule/{ENTRY}"
    sign_in(b, stack, ADMIN_EMAIL)
    sign_in_made(b, stack, hours_ago=11.9)
    b.open(path)
    assert b.heading() == ENTRY, "the re-signed cookie is taken: 11.9 hours is recent enough"
    sign_in_made(b, stack, hours_ago=12)
    b.open(path)
    assert urlsplit(b.path).path == "/" and parse_qs(urlsplit(b.path).query)["next"] == [path]
    assert "Admin pages need a sign-in from the last 12 hours: sign in again." in b.flashes()
    assert not b.signed_in()
    b.snap("admin-sign-in-again")
    sent = stack.mails_to(ADMIN_EMAIL)
    ask_for_a_sign_in_link(b, ADMIN_EMAIL)
    open_the_link(b, stack.sign_in_link(ADMIN_EMAIL, after=sent), ADMIN_EMAIL)
    b.press("Sign in")
    assert b.path == path and b.heading() == ENTRY, "back on the page asked for"
