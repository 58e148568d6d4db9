"""Build a rendered email's wire bytes with the standard library's email package.

What the server offers decides the encoding: 8-bit parts only when it takes BODY=8BITMIME
(else quoted-printable), a UTF-8 address only when it takes SMTPUTF8.

build_message is the reference. For the common email (ASCII recipient, no surrogates) wire_bytes
writes the same bytes without building the message objects or running the generator: every
header is still folded by the policy and quoted-printable still comes from email.quoprimime,
only the MIME skeleton the generator would write around them is written here. A test compares
both for arbitrary titles, names and addresses; anything else goes the library's way.
"""

from __future__ import annotations

import re
import secrets
import time
from dataclasses import dataclass
from email import policy as policies
from email import quoprimime
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
_TEXT_LINE_END = re.compile(r"\r\n|\r|\n")


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


def _quoted_printable(text: str, eight_bit: bool) -> bool:
    """Return whether a part goes quoted-printable (7-bit, short lines) rather than as is."""
    # Split where the generator ends lines (CR, LF, CRLF), not at str.splitlines()'s \x0c,
    # \x85 or \u2028, which stay inside a line on the wire.
    lines = _TEXT_LINE_END.split(text)
    return not eight_bit or max(len(line.encode()) for line in lines) > MAX_LINE


def _part(text: str, subtype: str, eight_bit: bool) -> MIMEText:
    charset = Charset("utf-8")
    if _quoted_printable(text, eight_bit):
        charset.body_encoding = QP  # 7-bit, short lines, whatever the text
    else:
        charset.body_encoding = None  # type: ignore[assignment]  # None: 7bit or 8bit as needed
    return MIMEText(text, subtype, charset)  # type: ignore[arg-type]


def _boundaries(token: str | None) -> tuple[str, str]:
    """Return the multipart/mixed and multipart/alternative boundaries made from a 64-hex token.

    Random boundaries given here: the generator would otherwise compile a regular expression
    per boundary to search the parts for it, and 128 random bits cannot be guessed by a title.
    """
    token = secrets.token_hex(32) if token is None else token
    return f"=_{token[:32]}", f"=_{token[32:]}"


def _date(now: float | None) -> str:
    """Return the Date header's value for now (the current time when None), in local time."""
    return formatdate(now if now is not None else time.time(), localtime=True)


def build_message(
    email: RenderedEmail,
    *,
    recipient: str,
    sender: str,
    eight_bit: bool,
    now: float | None = None,
    token: str | None = None,
) -> MIMEMultipart:
    """Return the email as a multipart/mixed message holding a text + HTML alternative.

    token (64 hex digits, random when None) makes the boundaries; tests give it and now.
    """
    mixed, between = _boundaries(token)
    alternative = MIMEMultipart("alternative", boundary=between)
    alternative.attach(_part(email.text, "plain", eight_bit))
    alternative.attach(_part(email.html, "html", eight_bit))
    message = MIMEMultipart(boundary=mixed)
    message.attach(alternative)
    subject = encode_subject(email.subject)
    utf8 = not recipient.isascii()  # policy.SMTPUTF8 takes strings, not Header objects
    message["Subject"] = subject.encode() if utf8 else subject  # type: ignore[assignment]
    message["From"] = sender_parts(sender)[0]
    message["To"] = recipient
    message["Date"] = _date(now)
    message["Message-ID"] = email.message_id
    for key, value in email.headers.items():
        message[key] = value
    return message


def library_bytes(
    email: RenderedEmail,
    *,
    recipient: str,
    sender: str,
    eight_bit: bool,
    now: float | None = None,
    token: str | None = None,
) -> bytes:
    """Return the email's bytes as the email package's generator writes them: the reference."""
    message = build_message(
        email, recipient=recipient, sender=sender, eight_bit=eight_bit, now=now, token=token
    )
    return message.as_bytes(policy=WIRE if recipient.isascii() else WIRE_UTF8)


# What the generator does to every body line end (email.generator.NLCRE): CR, LF, CRLF -> CRLF.
_LINE_END = re.compile(rb"\r\n|\r|\n")
CRLF = b"\r\n"


def fast_path_fits(email: RenderedEmail, *, recipient: str, sender: str) -> bool:
    """Return whether fast_bytes writes this email: only where it cannot differ from the library.

    Not for a UTF-8 recipient (another policy), an empty part (the library skips encoding
    it), a header of its own that names a MIME header (the generator reads those), or a
    surrogate anywhere (the library raises its own error).
    """
    if not recipient.isascii() or not email.text or not email.html:
        return False
    if any(name.lower().startswith(("content-", "mime-")) for name in email.headers):
        return False
    strings = [email.subject, email.text, email.html, email.message_id, sender, recipient]
    try:
        "".join([*strings, *email.headers, *email.headers.values()]).encode()
    except UnicodeEncodeError:
        return False
    return True


def _fold(name: str, value: str | Header) -> bytes:
    """Return one header line as the generator writes it: WIRE.fold_binary, nothing of ours."""
    return WIRE.fold_binary(name, value)


def _fast_part(text: str, subtype: str, eight_bit: bool) -> bytes:
    """Return a text part as MIMEText(text, subtype, utf-8) and the generator write it."""
    data = text.encode()
    if _quoted_printable(text, eight_bit):
        # Charset.body_encode's way: the UTF-8 bytes as latin-1 code points, quoprimime's LF.
        body = quoprimime.body_encode(data.decode("latin-1")).encode("ascii")
        encoding = "quoted-printable"
    else:
        body, encoding = data, "7bit" if data.isascii() else "8bit"  # encoders.encode_7or8bit
    return b"".join(
        [
            _fold("Content-Type", f'text/{subtype}; charset="utf-8"'),
            _fold("MIME-Version", "1.0"),
            _fold("Content-Transfer-Encoding", encoding),
            CRLF,
            _LINE_END.sub(CRLF, body),
        ]
    )


def fast_bytes(
    email: RenderedEmail,
    *,
    recipient: str,
    sender: str,
    eight_bit: bool,
    now: float | None = None,
    token: str | None = None,
) -> bytes:
    """Return library_bytes(...) for an email fast_path_fits, without building the message.

    Headers in the order build_message sets them, each folded by the policy as the generator
    does; the boundary lines as the generator's _handle_multipart writes them (no preamble,
    no epilogue, a part's last line end is its own).
    """
    mixed, between = _boundaries(token)
    # Made before any header is folded, as build_message makes them: an error (a non-ASCII
    # sender address) is then the one the library raises, not a fold's.
    subject, from_ = encode_subject(email.subject), sender_parts(sender)[0]
    date = _date(now)
    headers = [
        _fold("Content-Type", f'multipart/mixed; boundary="{mixed}"'),
        _fold("MIME-Version", "1.0"),
        _fold("Subject", subject),
        _fold("From", from_),
        _fold("To", recipient),
        _fold("Date", date),
        _fold("Message-ID", email.message_id),
        *(_fold(name, value) for name, value in email.headers.items()),
    ]
    alternative = [
        _fold("Content-Type", f'multipart/alternative; boundary="{between}"'),
        _fold("MIME-Version", "1.0"),
        CRLF,
        f"--{between}\r\n".encode(),
        _fast_part(email.text, "plain", eight_bit),
        f"\r\n--{between}\r\n".encode(),
        _fast_part(email.html, "html", eight_bit),
        f"\r\n--{between}--\r\n".encode(),
    ]
    opening, closing = f"--{mixed}\r\n".encode(), f"\r\n--{mixed}--\r\n".encode()
    return b"".join([*headers, CRLF, opening, *alternative, closing])


def wire_bytes(
    email: RenderedEmail,
    *,
    recipient: str,
    sender: str,
    eight_bit: bool,
    now: float | None = None,
    token: str | None = None,
) -> bytes:
    """Return the email's bytes: fast_bytes where it fits, else the library's."""
    fits = fast_path_fits(email, recipient=recipient, sender=sender)
    build = fast_bytes if fits else library_bytes
    return build(
        email, recipient=recipient, sender=sender, eight_bit=eight_bit, now=now, token=token
    )


def build_wire(
    email: RenderedEmail, *, sender: str, eight_bit: bool, smtputf8: bool, now: float | None = None
) -> Wire:
    """Return the email's envelope and bytes for this server; raises AddressError."""
    recipient = envelope_address(email.recipient, smtputf8=smtputf8)
    data = wire_bytes(email, recipient=recipient, sender=sender, eight_bit=eight_bit, now=now)
    options = [] if recipient.isascii() else ["SMTPUTF8"]
    if not data.isascii():
        options.append("BODY=8BITMIME")
    return Wire(sender_parts(sender)[1], recipient, data, tuple(options))
