"""Sending email: Flask-Mail connections with a timeout and TLS checks, and what a reply means.

The Flask app of scheduler.app.create_app carries Flask-Mail's settings; tasks send inside its
app context. Messages are built by mime.py.
"""

from __future__ import annotations

import ipaddress
import smtplib
import ssl
from dataclasses import dataclass
from functools import lru_cache
from types import TracebackType
from typing import Any

from flask import Flask
from flask_mail import Connection

from config import Config
from scheduler.alerts.mime import AddressError, Wire, build_wire
from scheduler.alerts.render import RenderedEmail


class DeliveryError(Exception):
    """An email was not accepted; str() is the reason to record."""


class PermanentFailure(DeliveryError):
    """The server refused this message or recipient for good (5xx): record it, never retry."""


class TemporaryFailure(DeliveryError):
    """The server deferred this message (4xx); the connection is still usable."""


class ConnectionFailure(DeliveryError):
    """The connection failed (refused, timeout, disconnect, TLS, login): retry later, reconnect."""


@dataclass(frozen=True)
class MailSettings:
    """What the worker writes in its emails, and how it retries SMTP and database failures.

    The SMTP server, its TLS, login and timeout are Flask-Mail's settings (scheduler.app's
    mail_settings), which connect() reads from the app: one place, not two.
    """

    default_sender: str
    domain: str
    public_url: str
    store_url: str
    retry_backoff: float = 30.0
    retry_backoff_max: float = 300.0
    max_attempts: int = 5
    record_retries: int = 5  # tries to record a result while the database is unreachable
    record_backoff: float = 1.0  # seconds before the first such retry; doubles each time

    @classmethod
    def from_config(cls, config: Config) -> MailSettings:
        """Return the settings of config."""
        return cls(
            default_sender=config.mail_default_sender,
            domain=config.mail_domain,
            public_url=config.public_url,
            store_url=config.store_url,
            retry_backoff=config.mail_retry_backoff,
            retry_backoff_max=config.mail_retry_backoff_max,
            max_attempts=config.alert_max_attempts,
            record_retries=config.alert_db_retries,
            record_backoff=config.alert_db_backoff,
        )


@lru_cache(maxsize=8)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Return a verifying TLS context (system CAs, or ca_file), built once per process."""
    return ssl.create_default_context(cafile=ca_file)


def is_loopback(host: str) -> bool:
    """Return True when host names this machine (no DNS lookup: only literal loopbacks)."""
    if host.lower().rstrip(".") == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class MailConnection(Connection):
    """Flask-Mail's Connection with a socket timeout, verified TLS and a quiet close.

    Flask-Mail 0.10 builds smtplib.SMTP(server, port) with no timeout, so a silent server
    would hang the task until its time limit; this passes one to SMTP/SMTP_SSL.
    """

    def __init__(self, mail: Any, *, timeout: float, ca_file: str | None) -> None:
        super().__init__(mail)
        self.timeout = timeout
        self.ca_file = ca_file

    def configure_host(self) -> smtplib.SMTP:
        """Open, secure and log in to the SMTP server; raises ConnectionFailure."""
        mail = self.mail
        plain = not (mail.use_ssl or mail.use_tls)
        if plain and mail.username and mail.password and not is_loopback(mail.server):
            raise ConnectionFailure(
                f"refusing to send SMTP credentials to {mail.server} over plain TCP: "
                "set MAIL_USE_TLS or MAIL_USE_SSL"
            )
        host: smtplib.SMTP | None = None
        try:
            if mail.use_ssl:
                host = smtplib.SMTP_SSL(
                    mail.server, mail.port, timeout=self.timeout, context=tls_context(self.ca_file)
                )
            else:
                host = smtplib.SMTP(mail.server, mail.port, timeout=self.timeout)
            if mail.use_tls:
                host.starttls(context=tls_context(self.ca_file))
            if mail.username and mail.password:
                host.login(mail.username, mail.password)
            host.ehlo_or_helo_if_needed()  # so has_extn() knows what the server offers
        except (smtplib.SMTPException, OSError) as exc:
            if host is not None:
                host.close()
            raise ConnectionFailure(
                f"cannot connect to {mail.server}:{mail.port}: {_describe(exc)}"
            ) from exc
        return host

    def offers(self, extension: str) -> bool:
        """Return True when the connected server announced this ESMTP extension."""
        return self.host is not None and bool(self.host.has_extn(extension))

    def send_wire(self, wire: Wire) -> None:
        """Send one built email to its one recipient; smtplib's errors escape."""
        if self.host is None:
            raise ConnectionFailure("not connected")
        self.host.sendmail(wire.sender, [wire.recipient], wire.data, list(wire.mail_options))

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc_value: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        if self.host is None:
            return
        try:
            self.host.quit()
        except (smtplib.SMTPException, OSError):
            self.host.close()
        self.host = None


def connect(app: Flask) -> MailConnection:
    """Return an unopened connection for app's mail server; use it as a context manager."""
    return MailConnection(
        app.extensions["mail"],
        timeout=app.config["MAIL_TIMEOUT"],
        ca_file=app.config["MAIL_CA_FILE"],
    )


def _describe(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        error = exc.smtp_error
        text = error.decode(errors="replace") if isinstance(error, bytes) else str(error)
        return f"{exc.smtp_code} {text}"
    return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__


def _by_code(code: int, reason: str) -> DeliveryError:
    if code == 421:  # the server is closing the connection
        return ConnectionFailure(reason)
    if 400 <= code < 500:
        return TemporaryFailure(reason)
    return PermanentFailure(reason)


def build(conn: MailConnection, email: RenderedEmail, sender: str) -> Wire:
    """Return the email encoded for what this server offers; raises PermanentFailure."""
    try:
        return build_wire(
            email,
            sender=sender,
            eight_bit=conn.offers("8bitmime"),
            smtputf8=conn.offers("smtputf8"),
        )
    except AddressError as exc:
        raise PermanentFailure(str(exc)) from None


def send_email(conn: MailConnection, email: RenderedEmail, sender: str) -> None:
    """Send one email on an open connection; raises a DeliveryError subclass if not accepted.

    Every failure that belongs to this recipient alone (refused, unencodable) is a
    PermanentFailure or TemporaryFailure; only a broken connection is a ConnectionFailure.
    """
    wire = build(conn, email, sender)
    try:
        conn.send_wire(wire)
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        reason = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        raise _by_code(code, reason) from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, _describe(exc)) from exc
    except smtplib.SMTPNotSupportedError as exc:
        raise PermanentFailure(f"{email.recipient!r}: {exc}") from exc
    except UnicodeError as exc:
        raise PermanentFailure(f"cannot encode the message to {email.recipient!r}: {exc}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ConnectionFailure(_describe(exc)) from exc
