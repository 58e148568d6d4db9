"""A real SMTP server for tests and the benchmark: aiosmtpd on 127.0.0.1 that can say 4xx/5xx.

`smtp_server` points the worker's mail settings at a plain server; `smtp_tls_server` at one
that requires STARTTLS and AUTH (self-signed certificate made with the openssl CLI).
"""

from __future__ import annotations

import asyncio
import email
import logging
import socket
import ssl
import subprocess
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.policy import default as default_policy
from pathlib import Path
from typing import Any

import pytest
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.app import AppUnderTest

USERNAME, PASSWORD = "scout", "s3cret-pass"
# Config changes for fast SMTP and database-record retries in tests.
TEST_BACKOFF = {"mail_retry_backoff": 0.05, "mail_retry_backoff_max": 0.2, "alert_db_backoff": 0.05}
# aiosmtpd itself trips its own "login_data is deprecated" warning on every AUTH.
logging.getLogger("mail.log").setLevel(logging.ERROR)


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    data: bytes
    at: float
    mail_options: tuple[str, ...] = ()

    @property
    def message(self) -> EmailMessage:
        """Return the parsed message."""
        return email.message_from_bytes(self.data, policy=default_policy)  # type: ignore[return-value]

    @property
    def message_id(self) -> str:
        """Return the accepted message's Message-ID header ('' when it has none)."""
        return str(self.message["Message-ID"] or "")


class SinkHandler:
    """aiosmtpd handler: keeps (or counts) messages; refuses or defers on demand."""

    def __init__(self, keep: bool = True, eight_bit: bool = True) -> None:
        self.keep = keep
        self.eight_bit = eight_bit
        self.lock = threading.Lock()
        self.messages: list[Received] = []
        self.count = 0
        self.first_at = self.last_at = 0.0
        self.refusals: dict[str, list[Any]] = {}  # address -> [reply, times left or None]
        self.defer_data = 0
        self.defer_reply = "451 4.3.0 Temporary local problem, try again"
        self.data_delay = 0.0  # seconds each DATA takes: a slow server, so faults land mid batch
        # Called with the count after each accepted message, before the 250 goes back.
        self.after_accept: Callable[[int], None] | None = None

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        if self.eight_bit:
            return responses
        return [line for line in responses if line[4:].upper() != "8BITMIME"]

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self.lock:
            rule = self.refusals.get(address.lower())
            if rule is not None and rule[1] != 0:
                if rule[1] is not None:
                    rule[1] -= 1
                return rule[0]
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        if self.data_delay:
            await asyncio.sleep(self.data_delay)
        with self.lock:
            if self.defer_data > 0:
                self.defer_data -= 1
                return self.defer_reply
            self.count += 1
            self.last_at = time.monotonic()
            if self.count == 1:
                self.first_at = self.last_at
            if self.keep:
                self.messages.append(
                    Received(
                        envelope.mail_from,
                        tuple(envelope.rcpt_tos),
                        bytes(envelope.original_content),
                        self.last_at,
                        tuple(envelope.mail_options),
                    )
                )
            count = self.count
        if self.after_accept is not None:
            self.after_accept(count)
        return "250 OK: queued"


def free_port() -> int:
    """Return a TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def make_certificate(directory: Path) -> tuple[Path, Path]:
    """Write a self-signed certificate for 127.0.0.1 and its key; return (cert, key)."""
    cert, key = directory / "smtp-cert.pem", directory / "smtp-key.pem"
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "rsa:2048",
            "-nodes",
            "-days",
            "2",
            "-subj",
            "/CN=127.0.0.1",
            "-addext",
            "subjectAltName=IP:127.0.0.1",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def _authenticate(
    server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
) -> AuthResult:
    ok = (
        isinstance(auth_data, LoginPassword)
        and auth_data.login == USERNAME.encode()
        and auth_data.password == PASSWORD.encode()
    )
    return AuthResult(success=ok, handled=False)


class SmtpServer:
    """A running aiosmtpd server on 127.0.0.1 and what it received."""

    def __init__(
        self,
        *,
        keep: bool = True,
        cert_dir: Path | None = None,
        smtputf8: bool = False,
        eight_bit: bool = True,
    ) -> None:
        self.handler = SinkHandler(keep=keep, eight_bit=eight_bit)
        self.port = free_port()
        self.cert: Path | None = None
        kwargs: dict[str, Any] = {"enable_SMTPUTF8": smtputf8}
        if cert_dir is not None:
            self.cert, key = make_certificate(cert_dir)
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            context.load_cert_chain(self.cert, key)
            kwargs |= {
                "tls_context": context,
                "require_starttls": True,
                "auth_required": True,
                "auth_require_tls": True,
                "authenticator": _authenticate,
            }
        self.kwargs = kwargs
        self.controller = self._controller()

    def _controller(self) -> Controller:
        return Controller(
            self.handler,
            hostname="127.0.0.1",
            port=self.port,
            server_hostname="sink.test",
            **self.kwargs,
        )

    def go_down(self) -> None:
        """Stop listening: connections are refused until come_back()."""
        self.controller.stop()

    def come_back(self) -> None:
        """Listen again on the same port, with the same handler and what it received."""
        self.controller = self._controller()
        self.controller.start()

    def __enter__(self) -> SmtpServer:
        self.controller.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.controller.stop()

    def config_changes(self, **changes: Any) -> dict[str, Any]:
        """Return the Config changes pointing the app at this server (TLS and login if needed)."""
        secure = self.cert is not None
        return {
            "mail_server": "127.0.0.1",
            "mail_port": self.port,
            "mail_use_tls": secure,
            "mail_use_ssl": False,
            "mail_username": USERNAME if secure else None,
            "mail_password": PASSWORD if secure else None,
            "mail_ca_file": str(self.cert) if secure else None,
            **changes,
        }

    @property
    def messages(self) -> list[Received]:
        """Return the accepted messages so far."""
        with self.handler.lock:
            return list(self.handler.messages)

    def refuse(
        self, address: str, reply: str = "550 5.1.1 No such user here", times: int | None = None
    ) -> None:
        """Answer RCPT TO address with reply, `times` times or for ever."""
        with self.handler.lock:
            self.handler.refusals[address.lower()] = [reply, times]

    def defer_next(self, count: int) -> None:
        """Answer 451 at the end of DATA for the next count messages."""
        with self.handler.lock:
            self.handler.defer_data = count

    def wait_for(self, count: int, timeout: float = 20.0) -> list[Received]:
        """Return the messages once at least count arrived; fails the test after timeout."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.handler.count >= count:
                return self.messages
            time.sleep(0.02)
        raise AssertionError(
            f"expected {count} messages within {timeout}s, got {self.handler.count}"
        )


@pytest.fixture
def smtp_server(scout_app: AppUnderTest) -> Iterator[SmtpServer]:
    """A plain SMTP server that the worker sends to for this test, with fast retries."""
    with SmtpServer() as server:
        scout_app.update(**server.config_changes(**TEST_BACKOFF))
        yield server


@pytest.fixture
def smtp_tls_server(scout_app: AppUnderTest, tmp_path: Path) -> Iterator[SmtpServer]:
    """An SMTP server requiring STARTTLS and AUTH that the worker sends to for this test."""
    with SmtpServer(cert_dir=tmp_path) as server:
        scout_app.update(**server.config_changes(**TEST_BACKOFF))
        yield server
