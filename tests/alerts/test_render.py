"""The price-drop email: content, escaping, headers, and the SMTP connection it goes over."""

from __future__ import annotations

import socket
import threading
import time
from collections.abc import Iterator
from dataclasses import replace

import pytest

from models import Session, Subscriber
from scheduler.alerts import transport as mail
from scheduler.alerts.render import (
    format_money,
    message_id_for,
    subject_for,
)
from scheduler.tasks.alerts import send_digests
from tests.support.alerts import add_game, add_pending_alert
from tests.support.digests import NASTY, SENDER, item, render
from tests.support.smtp import SmtpServer, free_port


def test_the_subject_names_the_game_and_price_for_one_drop_and_counts_several():
    assert subject_for([item()]) == "Portal 2 is now $4.99"
    assert subject_for([item(1), item(2), item(3)]) == "3 games you watch dropped in price"


def test_a_title_with_newlines_cannot_break_the_subject_header():
    subject = subject_for([item(title="Evil\r\nBcc: x@y.z  Game")])
    assert subject == "Evil Bcc: x@y.z Game is now $4.99"


def test_prices_carry_their_currency():
    assert [
        format_money(499, "USD"),
        format_money(1250, "EUR"),
        format_money(899, "GBP"),
        format_money(198000, "JPY"),
        format_money(5, "CAD"),
    ] == ["$4.99", "€12.50", "£8.99", "1980.00 JPY", "0.05 CAD"]


def test_both_parts_show_prices_discount_lowest_before_and_the_store_link():
    email = render(item())
    for part in (email.text, email.html):
        assert "$4.99" in part and "$19.99" in part and "-75%" in part
        assert "$8.99" in part
        assert "https://store.example/app/1/" in part
        assert "https://scout.example/unsubscribe/tok-123" in part


def test_both_parts_link_to_the_watchlist_and_each_games_page_on_this_site():
    email = render(item(1, itemkey="App_620"), item(2, title="Other", itemkey="Sub_54029"))

    for part in (email.text, email.html):
        assert "https://scout.example/watchlist" in part
        assert "https://scout.example/games/App_620" in part
        assert "https://scout.example/games/Sub_54029" in part
        assert "https://store.example/app/1/" in part


def test_a_sent_digest_links_each_game_by_its_item_key(db, worker, smtp_server):
    with Session.begin() as session:
        alert = add_pending_alert(
            session, "ann@example.com", add_game(session, 620, "Portal 2", price=499)
        )

    send_digests(0, [alert.subscriber_id])

    text = smtp_server.wait_for(1)[0].message.get_body(("plain",)).get_content()
    assert "http://scout.test/games/App_620" in text and "http://scout.test/watchlist" in text


def test_a_new_low_says_so_and_a_game_without_history_says_none_recorded():
    assert "new low" in render(item(new=799, lowest=899)).text
    assert "new low" not in render(item(new=999, lowest=899)).text
    assert "none recorded" in render(item(lowest=None)).text


def test_the_html_part_escapes_third_party_titles():
    email = render(item(title=NASTY))
    assert "<script>" not in email.html
    assert "&lt;script&gt;" in email.html and "Tom &amp; Jerry" in email.html
    assert NASTY in email.text


def test_the_unsubscribe_headers_follow_rfc_8058():
    email = render(item())
    assert email.headers == {
        "List-Unsubscribe": "<https://scout.example/unsubscribe/tok-123>",
        "List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
    }


def test_the_message_id_is_the_same_for_the_same_alerts_and_on_our_domain():
    assert render(item(3), item(9)).message_id == "<alerts-7-3-9@scout.example>"
    assert message_id_for(7, [9, 3], "scout.example") == render(item(9), item(3)).message_id


def test_an_empty_digest_is_refused():
    with pytest.raises(ValueError):
        render()


def test_the_sent_message_has_every_part_and_header(db, smtp_server):
    with Session.begin() as session:
        game = add_game(session, 620, NASTY, price=499)
        other = add_game(session, 400, "Portal", price=399, currency="USD")
        first = add_pending_alert(session, "ann@example.com", game)
        second = add_pending_alert(session, "ann@example.com", other)
        token = first.subscriber_id

    assert send_digests(0, [first.subscriber_id])["emails"] == 1

    (received,) = smtp_server.messages
    message = received.message
    assert received.rcpt_tos == ("ann@example.com",)
    assert message["Subject"] == "2 games you watch dropped in price"
    assert message["From"] == "SteamScout <alerts@scout.test>"
    assert message["To"] == "ann@example.com"
    assert message["Date"]
    low, high = sorted([first.id, second.id])
    assert message["Message-ID"] == f"<alerts-{token}-{low}-{high}@scout.test>"
    with Session() as session:
        unsubscribe = session.get_one(Subscriber, first.subscriber_id).unsubscribe_token
    link = f"http://scout.test/unsubscribe/{unsubscribe}"
    # A long header is folded after the colon; Python's parser keeps the fold's space.
    assert message["List-Unsubscribe"].strip() == f"<{link}>"
    assert message["List-Unsubscribe-Post"] == "List-Unsubscribe=One-Click"
    text = message.get_body(("plain",)).get_content()
    html = message.get_body(("html",)).get_content()
    for part in (text, html):
        assert link in part
        assert "$4.99" in part and "$3.99" in part and "$8.99" in part
        assert "http://127.0.0.1:9/app/620/" in part
    assert NASTY in text
    assert "<script>" not in html and "&lt;script&gt;" in html and "Tom &amp; Jerry" in html


@pytest.fixture
def silent_server() -> Iterator[int]:
    """A TCP server on 127.0.0.1 that accepts connections and never says a word."""
    listener = socket.create_server(("127.0.0.1", 0))
    held: list[socket.socket] = []
    stop = threading.Event()

    def accept() -> None:
        listener.settimeout(0.1)
        while not stop.is_set():
            try:
                held.append(listener.accept()[0])
            except TimeoutError:
                continue

    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield listener.getsockname()[1]
    stop.set()
    thread.join()
    for conn in held:
        conn.close()
    listener.close()


def test_a_silent_server_times_out_instead_of_hanging(silent_server, scout_app):
    app = scout_app.update(mail_server="127.0.0.1", mail_port=silent_server, mail_timeout=0.3)
    started = time.monotonic()
    with app.app_context(), pytest.raises(mail.ConnectionFailure, match="timed out"):
        with mail.connect(app):
            pass
    assert time.monotonic() - started < 2


def test_a_refused_connection_is_a_connection_failure(scout_app):
    app = scout_app.update(mail_server="127.0.0.1", mail_port=free_port())
    with app.app_context(), pytest.raises(mail.ConnectionFailure, match="cannot connect"):
        with mail.connect(app):
            pass


def test_starttls_and_login_work_and_a_wrong_password_is_a_connection_failure(tmp_path, scout_app):
    with SmtpServer(cert_dir=tmp_path) as server:
        app = scout_app.update(**server.config_changes())
        with app.app_context(), mail.connect(app) as conn:
            mail.send_email(conn, render(item()), SENDER)
        assert server.wait_for(1)[0].message["Subject"] == "Portal 2 is now $4.99"

        bad = scout_app.update(mail_password="wrong")
        with bad.app_context(), pytest.raises(mail.ConnectionFailure, match="535"):
            with mail.connect(bad):
                pass


def test_an_untrusted_certificate_is_refused(tmp_path, scout_app):
    with SmtpServer(cert_dir=tmp_path) as server:
        app = scout_app.update(**server.config_changes(mail_ca_file=None))
        with app.app_context(), pytest.raises(mail.ConnectionFailure, match="CERTIFICATE"):
            with mail.connect(app):
                pass


def test_a_5xx_and_a_4xx_per_recipient_are_told_apart(smtp_server, scout_app):
    smtp_server.refuse("gone@example.com", "550 5.1.1 user unknown")
    smtp_server.refuse("busy@example.com", "452 4.2.2 mailbox full")
    app = scout_app.app
    with app.app_context(), mail.connect(app) as conn:
        with pytest.raises(mail.PermanentFailure, match="550 5.1.1 user unknown"):
            mail.send_email(conn, replace(render(item()), recipient="gone@example.com"), SENDER)
        with pytest.raises(mail.TemporaryFailure, match="452"):
            mail.send_email(conn, replace(render(item()), recipient="busy@example.com"), SENDER)
        mail.send_email(conn, render(item()), SENDER)
    assert [m.rcpt_tos for m in smtp_server.messages] == [("ann@example.com",)]
