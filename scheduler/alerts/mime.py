"""Build a rendered email's wire bytes with the standard library's email package.

What the server offers decides the encoding: 8-bit parts only when it takes BODY=8BITMIME
(else quoted-printable), a UTF-8 address only when it takes SMTPUTF8.
"""

from __future__ import annotations

import time
from dataclasses import dataclass
from email import policy as policies
from email.charset import QP, Charset
from email.header import Header
from email.mime.multipart import MIMEMultipart
from email.mime.text import MIMEText
from email.utils import formataddr, formatdate, parseaddr

from scheduler.alerts.render import RenderedEmail

# Header values below are encoded and folded when set (email.header.Header), so the generator
# must write them as they are: policy.SMTP would re-parse a long one and decode any
# "=?...?=" text in it, turning a literal title into something else.
WIRE = policies.SMTP.clone(refold_source="none")
WIRE_UTF8 = WIRE.clone(utf8=True)
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


def encode_subject(subject: str) -> str:
    """Return the Subject value: plain ASCII as is (folded), anything else RFC 2047 encoded.

    Text that merely looks like an encoded word ("=?utf-8?b?...?=") is encoded too, so the
    reader sees it literally instead of decoding it.
    """
    if subject.isascii() and "=?" not in subject:
        return Header(subject, "us-ascii").encode()
    return Header(subject, "utf-8").encode()


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


def _part(text: str, subtype: str, eight_bit: bool) -> MIMEText:
    charset = Charset("utf-8")
    lines = text.splitlines() or [""]
    if not eight_bit or max(len(line.encode()) for line in lines) > MAX_LINE:
        charset.body_encoding = QP  # 7-bit, short lines, whatever the text
    else:
        charset.body_encoding = None  # 7bit or 8bit as the text needs
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]


def build_wire(
    email: RenderedEmail, *, sender: str, eight_bit: bool, smtputf8: bool, now: float | None = None
) -> Wire:
    """Return the email as a multipart/mixed text + HTML alternative; raises AddressError."""
    recipient = envelope_address(email.recipient, smtputf8=smtputf8)
    name, from_address = parseaddr(sender)
    alternative = MIMEMultipart("alternative")
    alternative.attach(_part(email.text, "plain", eight_bit))
    alternative.attach(_part(email.html, "html", eight_bit))
    message = MIMEMultipart()
    message.attach(alternative)
    message["Subject"] = encode_subject(email.subject)
    message["From"] = formataddr((name, from_address), charset="utf-8")
    message["To"] = recipient
    message["Date"] = formatdate(now if now is not None else time.time(), localtime=True)
    message["Message-ID"] = email.message_id
    for key, value in email.headers.items():
        message[key] = value
    needs_utf8 = not recipient.isascii()
    data = message.as_bytes(policy=WIRE_UTF8 if needs_utf8 else WIRE)
    options = ["SMTPUTF8"] if needs_utf8 else []
    if not data.isascii():
        options.append("BODY=8BITMIME")
    return Wire(from_address, recipient, data, tuple(options))
