"""The steps of a person's story in a real browser, each a function named for what the person
does, asserting what they see (tests/browser/ tells the stories with them). Every page met is
saved at 360 and 1280 px under instance/screenshots/ and must not scroll sideways at 360 px.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from scheduler.alerts.render import format_money
from storesim.data import GameTruth, game_truth
from storesim.sales import parse_sale
from tests.support.browser import Browser
from tests.support.smtp import Received
from tests.support.stack import STORE_GAMES, STORE_SEED, Stack

SALE_PCT = 50


@dataclass(frozen=True)
class Game:
    """A game of the simulated store as a person meets it: its id, title, prices shown."""

    item: str
    appid: int
    title: str
    price: str
    sale_price: str
    target: str  # a price between the two, as typed in the form ("9.00")
    target_shown: str  # and as the page shows it ("$9.00")


def store_game(wanted: Any) -> Game:
    """The first paid, undiscounted app of the store whose title satisfies wanted."""
    for index in range(STORE_GAMES):
        truth = game_truth(index, seed=STORE_SEED)
        if _plain_paid_app(truth) and wanted(truth.title):
            sale = parse_sale({"appids": [truth.steam_id], "pct": SALE_PCT})
            on_sale = game_truth(index, seed=STORE_SEED, sale=sale)
            price, sale_price = truth.final_cents or 0, on_sale.final_cents or 0
            target = (price + sale_price) // 2
            return Game(
                truth.itemkey,
                truth.steam_id,
                truth.title,
                format_money(price, truth.currency),
                format_money(sale_price, truth.currency),
                f"{target // 100}.{target % 100:02d}",
                format_money(target, truth.currency),
            )
    raise AssertionError("the simulated store has no such game")


def _plain_paid_app(truth: GameTruth) -> bool:
    return truth.kind == "app" and bool(truth.final_cents) and truth.discount_pct == 0


# Titles with markup: shown as text (escaped) or the page would read differently. DROPS goes
# on sale and meets its rule; WAITS asks for a discount it never gets.
DROPS = store_game(lambda title: "<" in title and "<script>" not in title)
WAITS = store_game(lambda title: "<script>" in title)


def masked(email: str) -> str:
    """The address as pages show it to whoever holds a link: j***@example.com."""
    local, _, domain = email.partition("@")
    return f"{local[0]}***@{domain}"


def open_home(b: Browser) -> None:
    b.open("/")
    assert b.heading() == "Know when a Steam game you want gets cheaper"
    assert not b.signed_in()
    assert b.field("Email address").get_attribute("type") == "email"
    b.snap("home")


def ask_for_a_sign_in_link(b: Browser, email: str) -> None:
    b.fill("Email address", email)
    b.press("Email me a sign-in link")
    assert b.heading() == "Check your inbox"
    assert email in b.text("main")
    b.snap("check-your-inbox")


def open_the_link(b: Browser, link: str, email: str) -> None:
    b.open(link)
    assert b.heading() == "Sign in to SteamScout"
    assert f"Sign in as {masked(email)}?" in b.text("main")
    assert not b.signed_in(), "opening the link (a GET) must not sign anyone in"
    b.snap("sign-in-link")


def press_sign_in(b: Browser, email: str) -> None:
    b.press("Sign in")
    assert b.path == "/watchlist"
    assert b.heading() == "Your watchlist"
    assert f"You are signed in as {email}." in b.flashes()
    assert b.signed_in()


def see_the_used_link_refused(b: Browser, link: str, email: str) -> None:
    """Open the email's link again once signed in: told so, and where to go."""
    b.open(link)
    assert b.heading() == "You are already signed in"
    assert f"You are signed in as {email}: this link is not needed" in b.text("main")
    assert b.find("main a[href='/watchlist']").text == "Go to your watchlist"
    assert not b.find_all("main input[type=email]"), "no sign-in form for a signed-in person"
    b.snap("link-used")


def see_the_used_link_offer_a_new_one(b: Browser, link: str) -> None:
    """Open the used link once signed out: why it fails, and the form for a new link."""
    b.open(link)
    assert b.heading() == "This link does not sign you in"
    assert "This sign-in link was already used" in b.text("main .error")
    assert b.field("Email address")


def scrape_the_store(stack: Stack) -> None:
    out = stack.scout("scrape", "--wait")
    assert re.search(r"run \d+: ok\n", out) and "pages failed: 0" in out, out


def watch_a_game(b: Browser, game: Game, rule: str, value: str) -> None:
    b.open("/watchlist")
    b.fill("Game (store link, App_440 or 440)", game.item)
    b.choose("Alert me at", rule)
    b.fill("Price or percent", value)
    b.press("Watch")
    assert f"You watch {game.title}." in b.flashes()
    assert b.path == "/watchlist"


def watch_row(b: Browser, game: Game) -> Any:
    rows = [row for row in b.find_all("li.watch") if b.text("h2 a", row) == game.title]
    assert len(rows) == 1, f"{len(rows)} rows titled {game.title!r}"
    return rows[0]


def see_the_watch(b: Browser, game: Game, now: str, rule: str) -> None:
    facts = b.text("dl.facts", watch_row(b, game))
    assert f"Now\n{now}" in facts and f"Alert at\n{rule}" in facts, facts


def put_it_on_sale(stack: Stack, game: Game) -> None:
    stack.store_control({"sale": {"appids": [game.appid], "pct": SALE_PCT}})


def run_the_checks(stack: Stack) -> None:
    scrape_the_store(stack)
    out = stack.scout("check", "--wait")
    assert "sent: 1" in out, out


def receive_the_digest(stack: Stack, email: str, game: Game) -> Received:
    digest = stack.mail_to(email, 2)[1]
    text = digest.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert game.title in text
    assert f"Now {game.sale_price}, was {game.price} (-{SALE_PCT}%)" in text
    assert WAITS.title not in text, "a watch whose rule is not met sent an alert"
    return digest


def search_words(title: str) -> str:
    """What a person types for a title: its first two words of letters, in lower case."""
    words = [w for w in "".join(c if c.isalnum() else " " for c in title).lower().split()]
    return " ".join(words[:2])


def find_the_game(b: Browser, game: Game) -> None:
    """Search the catalogue from the home page and open the game's page from the results."""
    b.open("/")
    b.fill("Find a game by its title", search_words(game.title))
    b.press("Search")
    assert b.heading().startswith("Games matching"), b.heading()
    b.snap("search")
    # The store has other items of the same title (its hostile titles repeat): this one's link.
    link = b.find(f"ol.results a[href='/games/{game.item}']")
    assert link.text == game.title
    b.follow(link.click)
    see_the_game_page(b, game)


def see_the_game_page(b: Browser, game: Game) -> None:
    assert b.heading() == game.title
    assert b.path == f"/games/{game.item}", b.path
    svg = b.find("figure.chart svg")
    assert svg.get_attribute("role") == "img"
    assert b.text("title", svg) or svg.find_element("css selector", "title")
    assert "Lowest ever seen" in b.text("dl.prices")
    assert b.find("details summary").text.startswith("All ")


def watch_from_the_game_page(b: Browser, game: Game, rule: str, value: str) -> None:
    """Set a rule on the game's own page; come back to it and see the rule there."""
    b.choose("Alert me at", rule)
    b.fill("Price or percent", value)
    b.press("Watch")
    assert f"You watch {game.title}." in b.flashes()
    assert b.path == f"/games/{game.item}", "back on the game's page"
    assert b.find("#rule-heading").text == "Your rule"
    b.snap("game")


def follow_the_digests_links(b: Browser, page: str, game: Game) -> None:
    """From the digest opened in the browser: the game's page, then the watchlist."""
    link = b.find(f"a[href$='/games/{game.item}']")
    assert link.text == game.title
    b.follow(link.click)
    see_the_game_page(b, game)
    b.open(page)
    b.click("Your watchlist")
    assert b.heading() == "Your watchlist"
    b.open(page)


def read_the_digest(b: Browser, digest: Received, folder: Path, game: Game) -> None:
    """Open the digest's HTML part in the browser, as a mail client shows it."""
    html = digest.message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    page = folder / "digest.html"
    page.write_text(html)
    b.open(page.as_uri())
    shown = b.text()
    assert game.title in shown, "the title is shown as text, its markup escaped"
    assert f"now {game.sale_price}, was {game.price} (-{SALE_PCT}%)" in shown, shown
    follow_the_digests_links(b, page.as_uri(), game)


def follow_the_unsubscribe_link(b: Browser, digest: Received) -> str:
    """Click the digest's Unsubscribe link; return its address."""
    link = str(b.find("a[href*='/unsubscribe/']").get_attribute("href"))
    assert str(digest.message["List-Unsubscribe"]).strip() == f"<{link}>"
    b.click("Unsubscribe")
    assert b.driver.current_url == link
    assert b.heading() == "Unsubscribe?"
    b.button("Unsubscribe")  # a button, not done yet: mail scanners open links
    b.snap("unsubscribe-ask")
    return link


def see_the_sale_on_the_watchlist(b: Browser, game: Game) -> None:
    b.click("Watchlist", within=b.find("header.site"))
    assert b.heading() == "Your watchlist"
    row = watch_row(b, game)
    now = f"{game.sale_price} −{SALE_PCT}%"
    see_the_watch(b, game, now=now, rule=f"a price at or below {game.target_shown}")
    assert f"Last alert\n{game.sale_price}" in b.text("dl.facts", row)


def pause_the_watch(b: Browser, game: Game) -> None:
    b.press(f"Pause {game.title}", within=watch_row(b, game))
    assert f"Paused {game.title}." in b.flashes()
    row = watch_row(b, game)
    assert b.text(".badge", row) == "Paused"
    b.button(f"Resume {game.title}", within=row)
    b.snap("watchlist")


def sign_out(b: Browser) -> None:
    b.press("Sign out")
    assert "You are signed out." in b.flashes()
    assert not b.signed_in()
    b.open("/watchlist")
    assert b.path == "/?next=/watchlist#sign-in", "a signed-out visitor is sent to sign in"
    assert b.field("Email address")


def unsubscribe(b: Browser, link: str, email: str) -> None:
    b.open(link)
    b.press("Unsubscribe")
    assert b.heading() == "You are unsubscribed"
    assert f"{masked(email)} gets no more price-drop emails" in b.text("main")
    assert b.find("main a[href='/watchlist']").text == "watchlist", "a way to turn them back on"
    b.snap("unsubscribed")


def sign_in(b: Browser, stack: Stack, email: str) -> str:
    """The steps from the home page to the watchlist; return the (now used) link."""
    sent = stack.mails_to(email)  # the address may have signed in before, on this stack
    open_home(b)
    ask_for_a_sign_in_link(b, email)
    link = stack.sign_in_link(email, after=sent)
    open_the_link(b, link, email)
    press_sign_in(b, email)
    return link


def nothing_secret_in_the_access_log(stack: Stack, email: str, *links: str) -> None:
    log = stack.output("web")
    assert '"GET /watchlist HTTP/1.1" 200' in log, "the access log is on"
    assert email not in log
    for link in links:
        assert link.rsplit("/", 1)[1] not in log, f"the token of {link} is in the access log"
