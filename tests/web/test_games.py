"""Search and game pages: titles found by word prefixes, a game's prices, low, chart and table,
its rule editable there; everything from our own catalogue, every string escaped."""

from __future__ import annotations

import re
import xml.etree.ElementTree as ET
from datetime import timedelta

import pytest
from sqlalchemy import select

from models import Game, Session, WatchEntry, utcnow
from tests.support.alerts import add_game
from tests.support.catalogue import set_price
from tests.support.web import post, sign_in_as

HOSTILE = '<script>alert("x")</script> & Co'


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


@pytest.fixture
def games(db):
    """Portal 2 at $4.99 (low $8.99 before), Half-Life 2 at $9.99, and a hostile title."""
    with Session.begin() as session:
        ids = {
            "portal": add_game(session, 620, "Portal 2", price=499).id,
            "half": add_game(session, 220, "Half-Life 2", price=999).id,
            "hostile": add_game(session, 666, HOSTILE, price=1999).id,
        }
    return ids


def result_titles(text: str) -> list[str]:
    return re.findall(r'<li>\s*<span><a href="/games/[^"]+">([^<]*)</a>', text)


def test_search_finds_games_by_word_prefixes_and_shows_their_prices(games, client):
    response = client.get("/search?q=half l")

    assert response.status_code == 200
    assert result_titles(response.text) == ["Half-Life 2"]
    assert "$9.99" in response.text and "lowest $8.99" in response.text
    assert result_titles(client.get("/search?q=PORT").text) == ["Portal 2"]


@pytest.mark.parametrize(
    "query", ['"', "*", "OR", "NEAR(", "a & b | !c", "\x00", "%", "_", "x" * 5000, "   "]
)
def test_a_hostile_or_empty_query_is_a_page_never_an_error_or_everything(games, client, query):
    response = client.get("/search", query_string={"q": query})

    assert response.status_code == 200
    assert len(result_titles(response.text)) < 3
    assert "<script>" not in response.text


def test_a_title_from_the_store_is_escaped_in_results_page_and_chart(games, client):
    found = client.get("/search?q=script").text
    page = client.get("/games/App_666").text

    for text in (found, page):
        assert "<script>" not in text and "&lt;script&gt;" in text
    svg = re.search(r"<svg.*?</svg>", page, re.S).group(0)
    title = ET.fromstring(svg).find("{http://www.w3.org/2000/svg}title")
    assert title.text == f"Price history of {HOSTILE}"


def test_a_game_page_shows_the_price_the_low_and_when_a_chart_and_its_table(games, client):
    response = client.get("/games/App_620")

    text = response.text
    assert response.status_code == 200
    assert "$4.99" in text and "−75%" in text and "was $19.99" in text
    low_day = (utcnow() - timedelta(hours=1)).strftime("%Y-%m-%d")
    assert re.search(
        rf"Lowest ever seen</dt>\s*<dd class=\"big\">\$4.99</dd><dd[^>]*>last on {low_day}", text
    )
    assert 'role="img"' in text and "<title" in text
    assert len(re.findall(r"<tr><td>", text)) == 4  # was, low, was, now
    assert "A good price: within 5% of the lowest ever seen." in text
    assert "http://127.0.0.1:9/app/620/" in text  # a link to the store; the page asked it nothing


def test_only_a_games_own_address_is_its_page(games, client):
    assert client.get("/games/App_620").status_code == 200
    for path in ("/games/app/620", "/games/620", "/games/App_999", "/games/" + "9" * 5000):
        assert client.get(path).status_code == 404, path


def test_signed_out_the_game_page_offers_to_sign_in_and_come_back(games, client):
    text = client.get("/games/App_620").text

    assert 'href="/?next=/games/App_620#sign-in"' in text
    assert 'action="/watchlist"' not in text


def test_signed_in_a_rule_set_on_the_game_page_comes_back_to_it_and_shows_there(games, client):
    ann = sign_in_as(client, "ann@example.com")
    assert "Watch this game" in client.get("/games/App_220").text

    response = post(
        client,
        "/watchlist",
        {"item": "App_220", "rule": "below", "value": "5", "next": "/games/App_220"},
        token_from="/games/App_220",
    )

    assert response.status_code == 302 and response.headers["Location"] == "/games/App_220"
    page = client.get("/games/App_220").text
    assert "Your rule" in page and "at or below $5.00" in page and 'value="5.00"' in page
    with Session() as session:
        rule = session.execute(
            select(WatchEntry.rule, WatchEntry.target_cents).where(WatchEntry.subscriber_id == ann)
        ).one()
    assert tuple(rule) == ("below", 500)


def test_another_persons_rule_is_never_shown(games, scout_app):
    ann_client, bob_client = scout_app.app.test_client(), scout_app.app.test_client()
    sign_in_as(ann_client, "ann@example.com")
    sign_in_as(bob_client, "bob@example.com")
    post(ann_client, "/watchlist", {"item": "620", "rule": "discount", "value": "80"})

    text = bob_client.get("/games/App_620").text

    assert "80% off" not in text and "Watch this game" in text


def test_a_game_with_a_thousand_changes_draws_and_lists_them(games, client):
    with Session.begin() as session:
        game = session.get_one(Game, games["half"])
        start = utcnow() - timedelta(days=500)
        for n in range(1000):
            set_price(session, game, 999 + (n % 7) * 100, start + timedelta(hours=12 * n))

    text = client.get("/games/App_220").text

    assert "All 1004 price changes as a table" in text
    assert text.count("<tr><td>") == 1004
