"""A person brings their Steam wishlist, takes one digest a day, then takes their data and goes.

Against the service as production runs it (the simulated store serves Steam's community and API
endpoints too): import a wishlist and read the report, choose a daily digest at an hour, see no
email before it and one after it with the clock moved, download the export, delete the account
and find nothing left about it in any table.
"""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from selenium.common.exceptions import NoSuchElementException, StaleElementReferenceException
from sqlalchemy import select, update

from models import Alert, Subscriber
from models.base import make_engine
from storesim.steam import PRESETS, wishlist_appids
from tests.support.accounts import rows_about
from tests.support.browser import Browser
from tests.support.stack import STORE_GAMES, STORE_SEED, Stack
from tests.support.story import scrape_the_store, sign_in

pytestmark = [pytest.mark.browser, pytest.mark.slow]

ZONE = "Europe/Berlin"
PROFILE = "https://steamcommunity.com/id/wishlister"


def open_the_wishlist_page(b: Browser) -> None:
    b.click("Wishlist", within=b.find("header.site"))
    assert b.heading() == "Import your Steam wishlist"


def type_a_bad_profile(b: Browser) -> None:
    b.fill("Your Steam profile (address or SteamID64)", "gabe newell")
    b.press("Import")
    errors = b.find_all("main .error")
    assert [e.text for e in errors] == [
        "not a Steam custom URL name 'gabe newell': use 3 to 32 letters, digits, _ or -"
    ]
    assert not b.find_all("#report-heading"), "nothing was recorded"
    b.snap("wishlist-error")


def import_the_wishlist(b: Browser) -> None:
    b.fill("Your Steam profile (address or SteamID64)", PROFILE)
    b.choose("Alert me at", "a discount of at least (%)")
    b.fill("Price or percent", "50")
    b.press("Import")
    assert any("wishlist import has started" in line for line in b.flashes())
    b.wait(
        lambda _: "Done: 33 games on the wishlist." in b.text("main"),
        "the import's report",
        ignored=(StaleElementReferenceException, NoSuchElementException),
    )
    assert b.text("#report-added") == "30" and b.text("#report-missing") == "3"
    b.snap("wishlist-report")


def see_the_cooldown(b: Browser) -> None:
    b.fill("Your Steam profile (address or SteamID64)", PROFILE)
    b.choose("Alert me at", "a new lowest price")
    b.press("Import")
    error = b.text("main .error")
    assert error.startswith("one wishlist import per 5 minutes: the next can start at "), error


def see_the_imported_watches(b: Browser) -> None:
    b.click("See them on your watchlist")
    assert b.heading() == "Your watchlist"
    assert b.text("main").count("50% off or more") == 30


def choose_a_daily_digest(b: Browser) -> int:
    """Ask for one email a day at an hour a few hours ahead in Berlin; return that hour."""
    b.click("Settings", within=b.find("header.site"))
    assert b.heading() == "Settings"
    hour = (datetime.now(ZoneInfo(ZONE)) + timedelta(hours=3)).hour
    b.find("input[name=frequency][value=daily]").click()
    b.choose("At (daily)", f"{hour:02d}:00")
    b.fill("Time zone", ZONE)
    b.press("Save")
    shown = f"One email a day at {hour:02d}:00 ({ZONE}), with every drop since the last."
    assert shown in b.flashes()
    assert f"{hour:02d}:00 {ZONE}, if anything dropped." in b.text("main")
    b.snap("settings-daily")
    return hour


def put_a_wished_game_on_sale(stack: Stack) -> None:
    wished = wishlist_appids(PRESETS[0], STORE_GAMES, STORE_SEED)[0]
    stack.store_control({"sale": {"appids": [wished], "pct": 60}})
    scrape_the_store(stack)
    out = stack.scout("check", "--wait")
    assert "sent: 0" in out, out


def move_the_clock_to_the_digest(stack: Stack, email: str) -> None:
    """The digest hour comes: the database's clock moves to it, as the wall clock would."""
    engine = make_engine(stack.env["DATABASE_URL"])
    past = datetime.now(UTC) - timedelta(seconds=1)
    try:
        with engine.begin() as conn:
            sid = conn.scalar(select(Subscriber.id).where(Subscriber.email == email))
            conn.execute(update(Subscriber).where(Subscriber.id == sid).values(next_digest_at=past))
            conn.execute(update(Alert).where(Alert.subscriber_id == sid).values(hold_until=past))
    finally:
        engine.dispose()


def receive_one_digest(stack: Stack, email: str) -> None:
    time.sleep(2)  # a digest would have gone out with the check above
    mine = [m for m in stack.smtp.messages if email in m.rcpt_tos]
    assert [m.message["Subject"] for m in mine] == ["Sign in to SteamScout"], "no digest yet"
    move_the_clock_to_the_digest(stack, email)
    stack.scout("check", "--wait")  # the run that found the drop counts the email as its own
    digest = stack.mail_to(email, 2)[1]
    assert "dropped in price" in digest.message.get_body(("plain",)).get_content()


def download_the_export(b: Browser, folder: Path, email: str) -> dict[str, object]:
    b.driver.execute_cdp_cmd(
        "Browser.setDownloadBehavior", {"behavior": "allow", "downloadPath": str(folder)}
    )
    b.click("Settings", within=b.find("header.site"))
    link = b.find("main a[download]")
    assert link.text == "Download my data (JSON)"
    link.click()  # a download: the page stays where it is
    path = folder / "steamscout-export.json"
    b.wait(lambda _: path.exists() and path.stat().st_size > 0, "the export's download")
    exported = json.loads(path.read_text())
    assert exported["email"] == email
    assert exported["emails"]["frequency"] == "daily"
    assert len(exported["watches"]) == 30
    assert {w["source"] for w in exported["watches"]} == {"wishlist"}
    # Every drop the one digest carried (wished games already 50% off count too), each sent.
    statuses = [a["status"] for a in exported["alerts"]]
    assert statuses and set(statuses) == {"sent"}
    assert all(a["sent_at"] for a in exported["alerts"])
    return exported


def delete_the_account(b: Browser, stack: Stack, email: str) -> None:
    engine = make_engine(stack.env["DATABASE_URL"])
    try:
        with engine.connect() as conn:
            sid = conn.scalar(select(Subscriber.id).where(Subscriber.email == email))
            assert rows_about(sid, email, conn)
        b.press("Delete my account…")
        assert b.heading() == "Delete your account?"
        b.snap("delete-confirm")
        b.press("Yes, delete everything")
        assert b.path == "/"
        assert any("Your account and everything about it are deleted" in f for f in b.flashes())
        with engine.connect() as conn:
            assert rows_about(sid, email, conn) == {}
    finally:
        engine.dispose()
    b.open("/watchlist")
    assert b.path.startswith("/?next=/watchlist"), "signed out"


def test_a_person_imports_a_wishlist_takes_a_daily_digest_exports_and_deletes_everything(
    browser: Browser, stack: Stack, tmp_path: Path
) -> None:
    b, email = browser, "katherine.johnson@example.com"
    scrape_the_store(stack)
    sign_in(b, stack, email)
    open_the_wishlist_page(b)
    type_a_bad_profile(b)
    import_the_wishlist(b)
    see_the_cooldown(b)
    see_the_imported_watches(b)
    choose_a_daily_digest(b)
    put_a_wished_game_on_sale(stack)
    receive_one_digest(stack, email)
    download_the_export(b, tmp_path, email)
    delete_the_account(b, stack, email)
    # The only errors: the two refused imports' own answers (400). No CSP violation.
    refused = f"{stack.url}/wishlist - Failed to load resource: the server responded with a "
    assert [e for e in b.console_errors() if not e.startswith(refused)] == []
