"""`scout subscribe|unsubscribe|watch|alerts` and the watchlist helpers behind them."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from sqlalchemy import select

from models.alert import Alert
from models.base import Session
from scheduler.alerts.watchlist import (
    UnknownItemError,
    UnknownSubscriberError,
    WatchError,
    add_watch,
    find_due_alerts,
    list_alerts,
    list_watches,
    parse_item,
    parse_price,
    subscribe,
    unsubscribe,
)
from scheduler.cli import main
from tests.support.catalogue import add_game, at
from tests.support.cli import ANN, counts, scout


def test_subscribe_stores_the_normalized_lowercase_address(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = scout(capsys, "subscribe", "  Ann@EXAMPLE.com ")
    assert (status, out, err) == (0, "subscribed ann@example.com\n", "")
    assert scout(capsys, "subscribe", ANN)[0] == 0
    assert counts() == (1, 0, 0)


def test_watch_add_list_and_remove_round_trip(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scout(capsys, "subscribe", ANN)
    status, out, _ = scout(capsys, "watch", "add", ANN, "App_440", "--below", "15.00")
    assert status == 0
    assert out == "ann@example.com watches App_440 (Team Fortress 2): at or below 15.00 USD\n"
    scout(
        capsys, "watch", "add", ANN, "https://store.steampowered.com/sub/54029/Orange/", "--new-low"
    )
    status, out, _ = scout(capsys, "watch", "list", ANN)
    assert status == 0
    lines = out.splitlines()
    assert lines[0].split() == ["EMAIL", "ITEM", "TITLE", "RULE", "PRICE", "ALERTED"]
    assert "Sub_54029" in lines[1] and "new lowest price" in lines[1] and "9.99 USD" in lines[1]
    assert "App_440" in lines[2] and "at or below 15.00 USD" in lines[2]
    assert scout(capsys, "watch", "remove", ANN, "app/440")[:2] == (
        0,
        "removed app/440 from ann@example.com's watches\n",
    )
    assert counts() == (1, 1, 0)


def test_watch_list_cuts_a_long_title_so_every_row_stays_readable(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    long_title = ("Orange " * 80)[:500]
    with Session.begin() as session:
        add_game(session, 620, 999, title=long_title)
    scout(capsys, "subscribe", ANN)
    scout(capsys, "watch", "add", ANN, "App_620", "--new-low")
    scout(capsys, "watch", "add", ANN, "App_440", "--below", "5")
    status, out, _ = scout(capsys, "watch", "list")
    assert status == 0
    lines = out.splitlines()
    assert len(lines) == 3 and max(len(line) for line in lines) < 200, out
    assert any("Orange Orange" in line and "…" in line for line in lines)
    watches = json.loads(scout(capsys, "watch", "list", "--json")[1])
    assert long_title.strip() in {w["title"].strip() for w in watches}


def test_watch_list_and_alerts_print_json_that_parses(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scout(capsys, "subscribe", ANN)
    scout(capsys, "watch", "add", ANN, "440", "--below", "$25")
    scout(capsys, "watch", "add", ANN, "Sub_54029", "--discount", "50")
    with Session.begin() as session:
        assert find_due_alerts(session, now=at(1), alert_run_id=None) == 1
    watches = json.loads(scout(capsys, "watch", "list", "--json")[1])
    assert [(w["item"], w["rule"], w["target_cents"]) for w in watches] == [
        ("Sub_54029", "discount", None),
        ("App_440", "below", 2500),
    ]
    alerts = json.loads(scout(capsys, "alerts", "--status", "pending", "--json")[1])
    assert [(a["item"], a["trigger_cents"], a["status"]) for a in alerts] == [
        ("App_440", 1999, "pending")
    ]
    assert alerts[0]["created_at"].startswith("2026-11-21T07:00:00")
    assert json.loads(scout(capsys, "alerts", "--status", "sent", "--json")[1]) == []


def test_alerts_prints_a_table_with_prices(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    assert scout(capsys, "alerts")[1] == "no alerts\n"
    scout(capsys, "subscribe", ANN)
    scout(capsys, "watch", "add", ANN, "440", "--below", "20")
    with Session.begin() as session:
        find_due_alerts(session, now=at(1), alert_run_id=None)
    out = scout(capsys, "alerts")[1].splitlines()
    assert out[0].split()[:4] == ["ID", "CREATED_AT", "EMAIL", "ITEM"]
    assert "19.99 USD" in out[1] and "pending" in out[1]


def test_unsubscribe_by_email_skips_pending_alerts(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scout(capsys, "subscribe", ANN)
    scout(capsys, "watch", "add", ANN, "440", "--below", "20")
    with Session.begin() as session:
        find_due_alerts(session, now=at(1), alert_run_id=None)
    assert scout(capsys, "unsubscribe", "ANN@example.com")[:2] == (
        0,
        "unsubscribed ann@example.com\n",
    )
    with Session() as session:
        alert = session.scalars(select(Alert)).one()
        assert (alert.status, alert.last_error) == ("skipped", "unsubscribed")


BAD_COMMANDS = [
    (["subscribe", "not-an-email"], "not a valid email address"),
    (["subscribe", "ünïcødé@exämple.com"], "not set up for SMTPUTF8 (MAIL_SMTPUTF8)"),
    (["watch", "add", "nobody@", "440", "--below", "5"], "not a valid email address"),
    (["watch", "add", ANN, "App_999999", "--below", "5"], "App_999999 is not in the catalogue"),
    (["watch", "add", ANN, "game/440", "--below", "5"], "not a store item"),
    (["watch", "add", ANN, "440", "--below=-5"], "must be above zero"),
    (["watch", "add", ANN, "440", "--below", "0"], "must be above zero"),
    (["watch", "add", ANN, "440", "--below", "12.345"], "not a price"),
    (["watch", "add", ANN, "440", "--below", "cheap"], "not a price"),
    (["watch", "add", ANN, "440", "--discount", "0"], "1 to 100 percent"),
    (["watch", "add", ANN, "440", "--discount", "101"], "1 to 100 percent"),
    (["watch", "add", ANN, "440", "--discount", "half"], "must be a whole number"),
    (["watch", "add", "bob@example.com", "440", "--new-low"], "bob@example.com is not subscribed"),
    (["watch", "remove", ANN, "Sub_54029"], "does not watch"),
    (["unsubscribe", "bob@example.com"], "no subscriber bob@example.com"),
    (["alerts", "--status", "lost"], "unknown alert status 'lost'"),
    (["alerts", "--limit", "0"], "--limit must be 1 or more"),
]


@pytest.mark.parametrize(
    ("argv", "message"), BAD_COMMANDS, ids=[" ".join(a) for a, _ in BAD_COMMANDS]
)
def test_bad_input_prints_one_line_and_stores_nothing(
    catalogue: str, capsys: pytest.CaptureFixture[str], argv: list[str], message: str
) -> None:
    scout(capsys, "subscribe", ANN)
    status, out, err = scout(capsys, *argv)
    assert status != 0
    assert out == ""
    assert err.count("\n") == 1 and message in err and err.startswith("scout: error: ")
    assert counts() == (1, 0, 0)


def test_the_scout_program_shows_no_traceback_for_bad_input(catalogue: str) -> None:
    env = {**os.environ, "DATABASE_URL": catalogue}
    program = str(Path(sys.executable).with_name("scout"))
    cases = [
        (["watch", "add", ANN, "440", "--below", "1,2,3"], "not a price '1,2,3'"),
        (["subscribe", "@"], "not a valid email address '@'"),
    ]
    for argv, message in cases:
        done = subprocess.run(
            [program, *argv],
            env=env,
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert done.returncode == 1
        assert done.stdout == "" and len(done.stderr.splitlines()) == 1
        assert message in done.stderr
        assert "Traceback" not in done.stderr


def test_an_idn_domain_is_stored_as_punycode_and_found_either_way(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    status, out, err = scout(capsys, "subscribe", "ann@exämple.com")
    assert (status, out, err) == (0, "subscribed ann@xn--exmple-cua.com\n", "")
    assert scout(capsys, "watch", "add", "ann@exämple.com", "440", "--new-low")[0] == 0
    assert counts() == (1, 1, 0)


def test_an_smtputf8_relay_takes_a_non_ascii_name_before_the_at(catalogue: str) -> None:
    with Session.begin() as session:
        assert subscribe(session, "ünïcødé@example.com", smtputf8=True).email == (
            "ünïcødé@example.com"
        )
        with pytest.raises(WatchError, match="MAIL_SMTPUTF8"):
            subscribe(session, "ünïcødé@example.com")


def test_the_rule_options_are_required_and_exclusive(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    for argv in (["440"], ["440", "--new-low", "--discount", "5"]):
        with pytest.raises(SystemExit) as exit_:
            main(["watch", "add", ANN, *argv])
        assert exit_.value.code == 2
        assert "Traceback" not in capsys.readouterr().err


@pytest.mark.parametrize(
    ("text", "cents"),
    [
        ("19.99", 1999),
        ("19,99", 1999),
        ("$19.99", 1999),
        ("19.9", 1990),
        ("20", 2000),
        ("19.99 USD", 1999),
        ("usd 5", 500),
        (" 0.01 ", 1),
    ],
)
def test_parse_price_reads_amounts_in_major_units(text: str, cents: int) -> None:
    assert parse_price(text, "USD") == cents


@pytest.mark.parametrize("text", ["", "-1", "0", "0.00", "1.999", "1,999.00", "19.99 EUR", "1e3"])
def test_parse_price_rejects_anything_else_with_one_line(text: str) -> None:
    with pytest.raises(WatchError) as error:
        parse_price(text, "USD")
    assert "\n" not in str(error.value)


@pytest.mark.parametrize(
    "text", ["€5", "5€", "£5", "¥500", "EUR 5", "5 eur", "R$ 5", "CDN$ 5", "₿5", "-€5", "5 GBP"]
)
def test_parse_price_refuses_another_currency_than_the_stores(text: str) -> None:
    # "€5" on a USD store was stored as 5.00 USD, while "EUR 5" was refused.
    with pytest.raises(WatchError) as error:
        parse_price(text, "USD")
    assert str(error.value) == (
        f"{text!r} is not in USD, the store's currency: give an amount in USD like 19.99"
    )


@pytest.mark.parametrize(
    ("text", "currency", "cents"),
    [
        ("US$ 5", "USD", 500),
        ("5€", "EUR", 500),
        ("€ 5,99", "eur", 599),
        ("5 EUR", "EUR", 500),
        ("£5", "GBP", 500),
        ("¥500", "JPY", 50000),
        ("¥ 79", "CNY", 7900),
        ("CDN$ 19.99", "CAD", 1999),
        ("$19.99", "CAD", 1999),
        ("659 pуб.", "RUB", 65900),
        ("R$ 19,99", "BRL", 1999),
        ("79,99zł", "PLN", 7999),
        ("S/.49.99", "PEN", 4999),
        ("₩ 21500", "KRW", 2150000),
    ],
)
def test_parse_price_takes_the_marks_the_store_writes_for_its_own_currency(
    text: str, currency: str, cents: int
) -> None:
    assert parse_price(text, currency) == cents


def test_parse_price_refuses_the_dollar_sign_on_a_store_in_euros() -> None:
    with pytest.raises(WatchError) as error:
        parse_price("$5", "EUR")
    assert "is not in EUR" in str(error.value)


def test_watch_add_below_a_price_in_another_currency_is_one_line_and_stores_nothing(
    catalogue: str, capsys: pytest.CaptureFixture[str]
) -> None:
    scout(capsys, "subscribe", ANN)
    status, out, err = scout(capsys, "watch", "add", ANN, "App_440", "--below", "€5")
    assert (status, out) == (1, "")
    assert err == (
        "scout: error: '€5' is not in USD, the store's currency: give an amount in USD like 19.99\n"
    )
    assert counts() == (1, 0, 0)


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("App_440", ("app", 440)),
        ("app/440", ("app", 440)),
        ("440", ("app", 440)),
        ("Sub_54029", ("sub", 54029)),
        ("bundle/232", ("bundle", 232)),
        ("https://store.steampowered.com/app/440/Team_Fortress_2/", ("app", 440)),
        ("http://127.0.0.1:8000/sub/54029/", ("sub", 54029)),
    ],
)
def test_parse_item_accepts_keys_paths_ids_and_store_urls(text: str, key: tuple[str, int]) -> None:
    assert parse_item(text) == key


@pytest.mark.parametrize("text", ["", "game/440", "App_", "https://example.com/news/440", "4 40"])
def test_parse_item_rejects_what_is_not_a_store_item(text: str) -> None:
    with pytest.raises(UnknownItemError):
        parse_item(text)


def test_resubscribing_clears_the_unsubscribe_and_issues_a_new_token(db: str) -> None:
    with Session.begin() as session:
        first = subscribe(session, ANN)
        token = first.unsubscribe_token
        assert len(token) >= 43 and subscribe(session, ANN).unsubscribe_token == token
        assert unsubscribe(session, token) is first and first.unsubscribed_at is not None
        again = subscribe(session, "Ann@Example.com")
        assert again.id == first.id and again.unsubscribed_at is None
        assert again.unsubscribe_token != token
        assert unsubscribe(session, token) is None
        assert unsubscribe(session, "") is None


def test_watch_helpers_raise_specific_errors(catalogue: str) -> None:
    with Session.begin() as session:
        with pytest.raises(UnknownSubscriberError):
            add_watch(session, ANN, "440", new_low=True)
        subscribe(session, ANN)
        with pytest.raises(UnknownItemError, match="App_1 is not in the catalogue"):
            add_watch(session, ANN, "1", new_low=True)
        with pytest.raises(WatchError, match="exactly one rule"):
            add_watch(session, ANN, "440", new_low=True, below_cents=100)
        with pytest.raises(WatchError, match="exactly one rule"):
            add_watch(session, ANN, "440")
        with pytest.raises(WatchError):
            list_alerts(session, "lost")
        assert list_watches(session, "bob@example.com") == []


def test_watch_add_and_list_show_a_stored_titles_control_characters_as_escapes(
    db: str, capsys: pytest.CaptureFixture[str]
) -> None:
    with Session.begin() as session:
        add_game(session, 10, 999, title="Bad\x1b]0;owned\x07\x1b[2J\u202eTitle\x9b")
    scout(capsys, "subscribe", ANN)
    status, added, _ = scout(capsys, "watch", "add", ANN, "10", "--new-low")
    assert status == 0 and "Bad\\x1b]0;owned\\x07\\x1b[2J\\u202eTitle\\x9b" in added
    status, listed, _ = scout(capsys, "watch", "list")
    assert status == 0 and "\\x1b[2J" in listed
    for out in (added, listed):
        assert not [c for c in out if c != "\n" and (ord(c) < 32 or 0x7F <= ord(c) <= 0x9F)]
        assert "\u202e" not in out
