"""The email on the wire, as a real SMTP server receives it and a reader's parser reads it back."""

from __future__ import annotations

import base64
from dataclasses import replace
from email.message import EmailMessage
from email.policy import compat32

import pytest
from aiosmtpd.smtp import AuthResult
from flask import Flask

from scheduler.alerts import transport as mail
from scheduler.alerts.mime import WIRE, build_message
from scheduler.alerts.render import RenderedEmail
from tests.support.app import AppUnderTest
from tests.support.digests import NASTY, SENDER, item, render
from tests.support.smtp import PASSWORD, USERNAME, Received, SmtpServer

ENCODED_WORD = "=?utf-8?b?" + base64.b64encode(b"Hacked").decode() + "?="
HOSTILE_TITLES = [
    ENCODED_WORD,
    f"{ENCODED_WORD} and a title long enough that the Subject header must be folded, twice",
    "=?iso-8859-1?q?caf=E9?= Deluxe",
    "Ünïcødé 魔法少女 Édition — “Gold” =?utf-8?q?x?=",
    NASTY,
    "Ω" * 200,
]


def content(message: EmailMessage, subtype: str) -> str:
    """Return a part's text as the reader sees it, line ends as the renderer wrote them."""
    return message.get_body((subtype,)).get_content().replace("\r\n", "\n").removesuffix("\n")


def send(
    scout_app: AppUnderTest, server: SmtpServer, email: RenderedEmail, sender: str = SENDER
) -> Received:
    """Send email to server on a fresh connection and return what it received."""
    app = scout_app.update(**server.config_changes())
    before = len(server.messages)
    with app.app_context(), mail.connect(app) as conn:
        mail.send_email(conn, email, sender)
    return server.wait_for(before + 1)[before]


@pytest.fixture
def plain_7bit_server():
    """An SMTP server that does not offer 8BITMIME."""
    with SmtpServer(eight_bit=False) as server:
        yield server


@pytest.mark.parametrize("title", HOSTILE_TITLES)
def test_a_hostile_title_reaches_the_reader_exactly_as_rendered(smtp_server, title, scout_app):
    email = render(item(title=title))

    received = send(scout_app, smtp_server, email)

    message = received.message
    assert message["Subject"] == email.subject
    assert content(message, "plain") == email.text
    assert content(message, "html") == email.html
    assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))


def test_a_title_that_is_an_encoded_word_is_not_decoded_as_a_header(smtp_server, scout_app):
    received = send(scout_app, smtp_server, render(item(title=ENCODED_WORD)))

    assert received.message["Subject"] == f"{ENCODED_WORD} is now $4.99"
    assert "Hacked" not in received.message["Subject"]


def test_8_bit_parts_go_with_body_8bitmime_when_the_server_offers_it(smtp_server, scout_app):
    received = send(scout_app, smtp_server, render(item(title="Café Deluxe")))

    assert "BODY=8BITMIME" in received.mail_options
    assert b"Content-Transfer-Encoding: 8bit" in received.data
    assert "Café Deluxe" in received.message.get_body(("plain",)).get_content()


def test_without_8bitmime_every_part_is_7_bit_quoted_printable(plain_7bit_server, scout_app):
    received = send(scout_app, plain_7bit_server, render(item(title="Café Deluxe")))

    assert not any(o.startswith("BODY=") for o in received.mail_options)
    assert received.data.isascii()
    assert b"Content-Transfer-Encoding: quoted-printable" in received.data
    assert "Café Deluxe" in received.message.get_body(("plain",)).get_content()


def test_an_ascii_email_needs_no_body_option(smtp_server, scout_app):
    received = send(scout_app, smtp_server, render(item(title="Portal 2")))

    assert not any(o.startswith("BODY=") for o in received.mail_options)
    assert b"Content-Transfer-Encoding: 7bit" in received.data


def test_a_line_over_998_octets_is_wrapped_by_quoted_printable(smtp_server, scout_app):
    title = "é" * 600  # 1,200 octets on the text part's title line
    email = render(item(title=title))

    received = send(scout_app, smtp_server, email)

    assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))
    assert title in received.message.get_body(("plain",)).get_content()


def test_a_long_line_split_only_by_a_unicode_line_separator_is_still_wrapped(
    smtp_server, scout_app
):
    title = "x" * 600 + "\u2028" + "x" * 600  # one line on the wire: only CR and LF end lines
    received = send(scout_app, smtp_server, render(item(title=title)))

    assert all(len(line) <= 998 for line in received.data.split(b"\r\n"))
    assert title in received.message.get_body(("plain",)).get_content()


def test_a_non_ascii_sender_name_is_encoded_and_reads_back(smtp_server, scout_app):
    received = send(
        scout_app, smtp_server, render(item()), sender="Stéam Scöut <alerts@scout.test>"
    )

    assert received.message["From"] == "Stéam Scöut <alerts@scout.test>"
    assert received.mail_from == "alerts@scout.test"


def test_a_non_ascii_recipient_without_smtputf8_fails_alone_with_a_clear_reason(
    smtp_server, scout_app
):
    app = scout_app.app
    with app.app_context(), mail.connect(app) as conn:
        with pytest.raises(mail.PermanentFailure, match="does not offer SMTPUTF8"):
            mail.send_email(conn, replace(render(item()), recipient="ünïcødé@example.com"), SENDER)
        mail.send_email(conn, render(item()), SENDER)  # the connection is still good

    assert [m.rcpt_tos for m in smtp_server.messages] == [("ann@example.com",)]


def test_a_non_ascii_recipient_goes_with_smtputf8_when_the_server_offers_it(scout_app):
    with SmtpServer(smtputf8=True) as server:
        received = send(scout_app, server, replace(render(item()), recipient="ünïcødé@example.com"))

    assert received.rcpt_tos == ("ünïcødé@example.com",)
    assert "SMTPUTF8" in received.mail_options
    assert received.message["To"] == "ünïcødé@example.com"


def test_an_idn_domain_goes_as_punycode(smtp_server, scout_app):
    received = send(scout_app, smtp_server, replace(render(item()), recipient="ann@exämple.com"))

    assert received.rcpt_tos == ("ann@xn--exmple-cua.com",)
    assert received.message["To"] == "ann@xn--exmple-cua.com"


def accept_anyone(*args: object) -> AuthResult:
    """An aiosmtpd authenticator that lets every login in."""
    return AuthResult(success=True)


@pytest.fixture
def plain_auth_server():
    """An SMTP server taking AUTH over plain TCP (as a careless relay would)."""
    server = SmtpServer()
    server.controller.SMTP_kwargs.update(auth_require_tls=False, authenticator=accept_anyone)
    with server:
        yield server


def test_credentials_go_over_plain_tcp_only_to_a_loopback_server(plain_auth_server, scout_app):
    loopback = plain_auth_server.config_changes(mail_username=USERNAME, mail_password=PASSWORD)
    received = send_with(scout_app.update(**loopback), plain_auth_server)
    assert received.rcpt_tos == ("ann@example.com",)

    remote = scout_app.update(mail_server="0.0.0.0")  # not a loopback name
    with remote.app_context(), pytest.raises(mail.ConnectionFailure) as caught:
        with mail.connect(remote):
            pass
    assert str(caught.value) == (
        "refusing to send SMTP credentials to 0.0.0.0 over plain TCP: "
        "set MAIL_USE_TLS or MAIL_USE_SSL"
    )
    assert PASSWORD not in str(caught.value)
    assert len(plain_auth_server.messages) == 1


def send_with(app: Flask, server: SmtpServer) -> Received:
    """Send one email with app's mail settings and return what server received."""
    with app.app_context(), mail.connect(app) as conn:
        mail.send_email(conn, render(item()), SENDER)
    return server.wait_for(1)[0]


@pytest.mark.parametrize("title", [*HOSTILE_TITLES, "Portal 2", "x" * 300, "tab\there"])
@pytest.mark.parametrize("eight_bit", [True, False])
def test_the_wire_policy_writes_exactly_what_compat32_writes(title, eight_bit):
    email = replace(render(item(title=title), item(2, title=title)), subject=title)
    message = build_message(
        email, recipient="ann@example.com", sender="Stéam <a@scout.test>", eight_bit=eight_bit
    )

    assert message.as_bytes(policy=WIRE) == message.as_bytes(policy=compat32.clone(linesep="\r\n"))
