"""Build a rendered email's wire bytes with the standard library's email package.

What the server offers decides the encoding: 8-bit parts only when it takes BODY=8BITMIME
(else quoted-printable), a UTF-8 address only when it takes SMTPUTF8.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from email import policy as policies
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.policy import Compat32
from email.utils import formataddr, formatdate, parseaddr
from functools import lru_cache
from typing import Any

from scheduler.alerts.render import RenderedEmail


class WirePolicy(Compat32):
    """compat32 with CRLF that writes a short one-line ASCII header as it is.

    compat32 passes every header through email.header.Header to fold it, which leaves such a
    header as it was but was half a message's CPU; tests check the bytes are compat32's.
    """

    def fold_binary(self, name: str, value: Any) -> bytes:
        """Return the header line as bytes; long, multi-line or non-ASCII ones are folded."""
        if (
            isinstance(value, str)
            and value.isascii()
            and "\n" not in value
            and "\r" not in value
            and (self.max_line_length is None or len(name) + len(value) + 2 <= self.max_line_length)
        ):
            return f"{name}: {value}{self.linesep}".encode("ascii")
        return super().fold_binary(name, value)


# Values below are RFC 2047 encoded when set (email.header.Header), so the generator must not
# re-parse them: policy.SMTP would decode any "=?...?=" text in a long one and turn a literal
# title into something else. policy.SMTPUTF8 is needed only for a UTF-8 address.
WIRE = WirePolicy(linesep="\r\n")
WIRE_UTF8 = policies.SMTPUTF8.clone(refold_source="none")
MAX_LINE = 998  # RFC 5321 4.5.3.1.6, octets without CRLF


class AddressError(ValueError):
    """This recipient cannot be reached over this connection; str() is the reason."""


@dataclass(frozen=True)
class Wire:
    """The envelope and bytes of one email, and the MAIL FROM options they need."""

    sender: str
    recipient: str
    data: bytes
    mail_options: tuple[str, ...]


def encode_subject(subject: str) -> Header:
    """Return the Subject header: plain ASCII as is, anything else RFC 2047 encoded.

    Text that merely looks like an encoded word ("=?utf-8?b?...?=") is encoded too, so the
    reader sees it literally instead of decoding it. The Header folds itself when written.
    """
    if subject.isascii() and "=?" not in subject:
        return Header(subject, "us-ascii", header_name="Subject")
    return Header(subject, "utf-8", header_name="Subject")


def envelope_address(address: str, *, smtputf8: bool) -> str:
    """Return address for the envelope and To header; raises AddressError if it cannot go.

    A non-ASCII domain goes as punycode; a non-ASCII local part only with SMTPUTF8.
    """
    if any(c in address for c in "\r\n\0<>,") or address.count("@") != 1:
        raise AddressError(f"not a deliverable address {address!r}")
    local, domain = address.split("@")
    if not domain.isascii():
        try:
            domain = domain.encode("idna").decode("ascii")
        except UnicodeError as exc:
            raise AddressError(f"cannot encode the domain of {address!r}: {exc}") from None
    if not local.isascii() and not smtputf8:
        raise AddressError(
            f"{address!r} has a non-ASCII name before the @ and the mail server does not "
            "offer SMTPUTF8"
        )
    return f"{local}@{domain}"


@lru_cache(maxsize=8)
def sender_parts(sender: str) -> tuple[str, str]:
    """Return the From header and the envelope address for sender, parsed once per process.

    Every email of a run has the same sender, and parsing it twice an email was a tenth of
    building one.
    """
    name, address = parseaddr(sender)
    return formataddr((name, address), charset="utf-8"), address


def _part(text: str, subtype: str, eight_bit: bool) -> MIMEText:
    charset = Charset("utf-8")
    lines = text.splitlines() or [""]
    if not eight_bit or max(len(line.encode()) for line in lines) > MAX_LINE:
        charset.body_encoding = QP  # 7-bit, short lines, whatever the text
    else:
        charset.body_encoding = None  # type: ignore[assignment]  # None: 7bit or 8bit as needed
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]


def build_message(
    email: RenderedEmail, *, recipient: str, sender: str, eight_bit: bool, now: float | None = None
) -> MIMEMultipart:
    """Return the email as a multipart/mixed message holding a text + HTML alternative."""
    # Random boundaries given here: the generator would otherwise compile a regular expression
    # per boundary to search the parts for it, and 128 random bits cannot be guessed by a title.
    token = secrets.token_hex(32)
    alternative = MIMEMultipart("alternative", boundary=f"=_{token[32:]}")
    alternative.attach(_part(email.text, "plain", eight_bit))
    alternative.attach(_part(email.html, "html", eight_bit))
    message = MIMEMultipart(boundary=f"=_{token[:32]}")
    message.attach(alternative)
    subject = encode_subject(email.subject)
    utf8 = not recipient.isascii()  # policy.SMTPUTF8 takes strings, not Header objects
    message["Subject"] = subject.encode() if utf8 else subject  # type: ignore[assignment]
    message["From"] = sender_parts(sender)[0]
    message["To"] = recipient
    message["Date"] = formatdate(now if now is not None else time.time(), localtime=True)
    message["Message-ID"] = email.message_id
    for key, value in email.headers.items():
        message[key] = value
    return message


def build_wire(
    email: RenderedEmail, *, sender: str, eight_bit: bool, smtputf8: bool, now: float | None = None
) -> Wire:
    """Return the email's envelope and bytes for this server; raises AddressError."""
    recipient = envelope_address(email.recipient, smtputf8=smtputf8)
    message = build_message(email, recipient=recipient, sender=sender, eight_bit=eight_bit, now=now)
    utf8 = not recipient.isascii()
    data = message.as_bytes(policy=WIRE_UTF8 if utf8 else WIRE)
    options = ["SMTPUTF8"] if utf8 else []
    if not data.isascii():
        options.append("BODY=8BITMIME")
    return Wire(sender_parts(sender)[1], recipient, data, tuple(options))
