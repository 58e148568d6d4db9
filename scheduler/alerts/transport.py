"""Sending email: the worker's Flask app with Flask-Mail, SMTP connections with a timeout, errors.

Settings come from config.py. Tests and the benchmark point the worker at their own SMTP
server with ``override_settings(replace(current_settings(), port=...))`` and undo it with
``override_settings(None)``; no SMTP code is mocked.
"""

from __future__ import annotations

import smtplib
import ssl
import time
from dataclasses import dataclass, field
from email.utils import formatdate
from functools import lru_cache
from types import TracebackType
from typing import Any

from flask import Flask, current_app
from flask_mail import (
    BadHeaderError,
    Connection,
    Mail,
    Message,
    email_dispatched,
    sanitize_address,
    sanitize_addresses,
    sanitize_subject,
)

from config import Config, get_config
from scheduler.alerts.render import RenderedEmail, mime_bytes


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
    """Where and how the worker sends email, and how long it waits before retrying."""

    server: str
    port: int
    use_tls: bool
    use_ssl: bool
    username: str | None
    password: str | None = field(repr=False)
    default_sender: str
    timeout: float
    domain: str
    public_url: str
    store_url: str
    ca_file: str | None = None
    retry_backoff: float = 30.0
    retry_backoff_max: float = 300.0

    @classmethod
    def from_config(cls, config: Config) -> MailSettings:
        """Return the settings for the configured SMTP server."""
        return cls(
            server=config.mail_server,
            port=config.mail_port,
            use_tls=config.mail_use_tls,
            use_ssl=config.mail_use_ssl,
            username=config.mail_username,
            password=config.mail_password,
            default_sender=config.mail_default_sender,
            timeout=config.mail_timeout,
            domain=config.mail_domain,
            public_url=config.public_url,
            store_url=config.store_url,
        )


_override: MailSettings | None = None


def current_settings() -> MailSettings:
    """Return the settings in force: the override if one is set, else those from config."""
    return _override or MailSettings.from_config(get_config())


def override_settings(settings: MailSettings | None) -> None:
    """Use settings for every later send in this process (None: back to config). For tests."""
    global _override
    _override = settings


@lru_cache(maxsize=8)
def create_mail_app(settings: MailSettings) -> Flask:
    """Return the worker-side Flask app with Flask-Mail configured from settings."""
    app = Flask("scheduler.alerts.transport")
    app.config.update(
        MAIL_SERVER=settings.server,
        MAIL_PORT=settings.port,
        MAIL_USE_TLS=settings.use_tls,
        MAIL_USE_SSL=settings.use_ssl,
        MAIL_USERNAME=settings.username,
        MAIL_PASSWORD=settings.password,
        MAIL_DEFAULT_SENDER=settings.default_sender,
        MAIL_TIMEOUT=settings.timeout,
        MAIL_CA_FILE=settings.ca_file,
    )
    Mail(app)
    return app


_sanitized_sender = lru_cache(maxsize=8)(sanitize_address)


@lru_cache(maxsize=2)
def _date_header(second: int) -> str:
    # The Date header shows whole seconds, and a batch sends many emails in each.
    return formatdate(second, localtime=True)


class DigestMessage(Message):
    """Flask-Mail's Message for a digest (a text and an HTML part, no attachments or Cc).

    Flask-Mail builds a tree of MIME objects and has the email package write it out: about
    0.3 ms a message, the biggest share of a batch's CPU. as_bytes sets the same headers the
    same way and has email_render.mime_bytes write the same bytes straight from the two texts.
    """

    def as_bytes(self) -> bytes:
        """Return the message as it goes on the wire."""
        return self.wire_bytes(sanitize_addresses(self.recipients))

    def wire_bytes(self, recipients: list[str]) -> bytes:
        """Return the message for recipients already sanitized, headers as Flask-Mail sets them."""
        headers = [("Subject", sanitize_subject(self.subject))] if self.subject else []
        headers += [
            ("From", _sanitized_sender(self.sender)),
            ("To", ", ".join(set(recipients))),
            ("Date", _date_header(int(self.date or time.time()))),
            ("Message-ID", self.msgId),
            *(self.extra_headers or {}).items(),
        ]
        return mime_bytes(headers, self.body or "", self.html or "")


@lru_cache(maxsize=8)
def tls_context(ca_file: str | None) -> ssl.SSLContext:
    """Return a verifying TLS context (system CAs, or ca_file), built once per process."""
    return ssl.create_default_context(cafile=ca_file)


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
        except (smtplib.SMTPException, OSError) as exc:
            if host is not None:
                host.close()
            raise ConnectionFailure(
                f"cannot connect to {mail.server}:{mail.port}: {_describe(exc)}"
            ) from exc
        return host

    def send(self, message: Message, envelope_from: str | tuple[str, str] | None = None) -> None:
        """Send like Flask-Mail, but parse and encode a DigestMessage's addresses only once.

        Flask-Mail does the sender and recipients for the envelope and again for the headers,
        a sixth of a batch's CPU; here the sender once a process, the recipients once a message.
        Flask-Mail's MAIL_MAX_EMAILS reconnect is not honoured (create_mail_app never sets it).
        """
        if not isinstance(message, DigestMessage) or self.host is None:
            return super().send(message, envelope_from)
        if message.has_bad_headers():
            raise BadHeaderError
        if message.date is None:
            message.date = time.time()
        recipients = sanitize_addresses(message.send_to)
        sender = _sanitized_sender(envelope_from or message.sender)
        data = message.wire_bytes(recipients)
        self.host.sendmail(sender, recipients, data, message.mail_options, message.rcpt_options)
        email_dispatched.send(current_app._get_current_object(), message=message)

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


def build_message(email: RenderedEmail) -> Message:
    """Return the Flask-Mail message for a rendered email (needs an app context)."""
    message = DigestMessage(
        subject=email.subject,
        recipients=[email.recipient],
        body=email.text,
        html=email.html,
        extra_headers=dict(email.headers),
    )
    message.msgId = email.message_id
    return message


def send_email(conn: MailConnection, email: RenderedEmail) -> None:
    """Send one email on an open connection; raises a DeliveryError subclass if not accepted."""
    try:
        conn.send(build_message(email))
    except smtplib.SMTPRecipientsRefused as exc:
        code, reply = next(iter(exc.recipients.values()))
        reason = f"{code} {reply.decode(errors='replace') if isinstance(reply, bytes) else reply}"
        raise _by_code(code, reason) from exc
    except smtplib.SMTPResponseException as exc:
        raise _by_code(exc.smtp_code, _describe(exc)) from exc
    except BadHeaderError as exc:
        raise PermanentFailure(f"bad header in message to {email.recipient!r}") from exc
    except (smtplib.SMTPException, OSError) as exc:
        raise ConnectionFailure(_describe(exc)) from exc
