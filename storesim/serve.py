"""How the simulated store answers one search request, faults included."""

from __future__ import annotations

import json
import socket
import struct
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import TYPE_CHECKING, Any
from urllib.parse import parse_qs, urlsplit

from storesim.appdetails import answer_appdetails
from storesim.faults import Fault
from storesim.html import html_page, json_body, page_rows
from storesim.steam import answer_steam

if TYPE_CHECKING:
    from storesim.store import SimStore

JSON_TYPE = "application/json; charset=utf-8"
HTML_TYPE = "text/html; charset=utf-8"
_GARBLED = b"<html><head><title>Access Denied</title></head><body>\xff\xfe Reference #18</body>"


def _query_int(query: dict[str, list[str]], name: str, default: int) -> int:
    raw = (query.get(name) or [str(default)])[0].strip() or str(default)
    value = int(raw)
    if value < 0:
        raise ValueError(f"{name} must not be negative")
    return value


def answer_search(handler: Any, sim: SimStore) -> None:
    """Answer GET /search/results/ on handler: the page, or the fault that matches it."""
    parts = urlsplit(handler.path)
    query = parse_qs(parts.query, keep_blank_values=True)
    try:
        start, count = _query_int(query, "start", 0), _query_int(query, "count", 50)
    except ValueError as exc:
        sim.stats_book.record_status("400")
        handler.send_body(400, f"bad request: {exc}".encode(), "text/plain")
        return
    sim.stats_book.record_request(start, parts.query, dict(handler.headers.items()))
    games, seed, epoch, sale, layout = sim.catalogue_key()
    cc = (query.get("cc") or ["us"])[0].lower() or "us"
    language = (query.get("l") or ["english"])[0].lower() or "english"
    key = (games, seed, epoch, sale, layout, cc, language, start, count)
    fault = sim.faults.pick(start)
    if fault is not None and fault.kind != "slow":
        _answer_fault(handler, sim, fault, key)
        return
    # A slow answer is counted as "slow" rather than "200": the client may have given up on it.
    sim.stats_book.record_status("200" if fault is None else "slow")
    if fault is not None and sim.stopping.wait(fault.delay):
        return
    if (query.get("infinite") or ["0"])[0] == "1":
        handler.send_body(200, json_body(*key), JSON_TYPE)
    else:
        handler.send_body(200, html_page(games, page_rows(*key)), HTML_TYPE)


def _answer_fault(handler: Any, sim: SimStore, fault: Fault, key: tuple[Any, ...]) -> None:
    sim.stats_book.record_status(fault.kind)
    games, start = key[0], key[-2]
    if fault.status is not None:
        after = fault.retry_after_header()
        headers = {"Retry-After": after} if after is not None else {}
        body = f"<html><body><h1>{fault.status}</h1></body></html>".encode()
        handler.send_body(fault.status, body, "text/html", headers)
    elif fault.kind == "down":
        handler.reset_connection()
    elif fault.kind == "cut":
        body = json_body(*key)
        handler.send_body(200, body, JSON_TYPE, send_bytes=len(body) // 2)
        handler.close_connection = True
    elif fault.kind == "garbled":
        handler.send_body(200, _GARBLED, HTML_TYPE)
    elif fault.kind == "truncated":
        rows = page_rows(*key)
        cut = {
            "success": 1,
            "results_html": rows[: len(rows) // 2],
            "total_count": games,
            "start": start,
        }
        handler.send_body(200, json.dumps(cut).encode(), JSON_TYPE)
    elif fault.kind == "json_error":
        handler.send_body(200, b'{"success":2}', JSON_TYPE)
    elif fault.kind == "null":
        handler.send_body(200, b"null", JSON_TYPE)
    elif fault.kind == "empty":
        empty = {"success": 1, "results_html": "", "total_count": games, "start": start}
        handler.send_body(200, json.dumps(empty).encode(), JSON_TYPE)


class SimServer(ThreadingHTTPServer):
    """A threaded HTTP server that can close its open connections when the sim stops."""

    daemon_threads = True
    request_queue_size = 256
    sim: SimStore

    def __init__(self, *args: Any) -> None:
        self.open_sockets: set[socket.socket] = set()
        self.sockets_lock = threading.Lock()
        super().__init__(*args)

    def close_all(self) -> None:
        """Shut down every open client connection (keep-alive ones included)."""
        with self.sockets_lock:
            for sock in list(self.open_sockets):
                try:
                    sock.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass


class SimHandler(BaseHTTPRequestHandler):
    """Routes the store's endpoints, Steam's profile and wishlist ones, and /_sim/."""

    protocol_version = "HTTP/1.1"
    disable_nagle_algorithm = True
    timeout = 60
    server: SimServer

    def setup(self) -> None:
        super().setup()
        with self.server.sockets_lock:
            self.server.open_sockets.add(self.connection)

    def finish(self) -> None:
        try:
            super().finish()
        except OSError:
            pass
        with self.server.sockets_lock:
            self.server.open_sockets.discard(self.connection)

    def log_message(self, format: str, *args: Any) -> None:
        """Stay quiet: tests and benchmarks read stats instead."""

    def do_GET(self) -> None:
        path = urlsplit(self.path).path
        if path in ("/search/results/", "/search/results", "/search/"):
            self._search()
        elif path in ("/api/appdetails", "/api/appdetails/"):
            answer_appdetails(self, self.server.sim)
        elif path == "/_sim/stats":
            sim = self.server.sim
            self._json(200, {**sim.stats(), "state": sim.state()})
        elif not answer_steam(self, self.server.sim, path):
            self.send_body(404, b"Not Found", "text/plain")

    def do_POST(self) -> None:
        if urlsplit(self.path).path != "/_sim/control":
            self.send_body(404, b"Not Found", "text/plain")
            return
        raw = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        try:
            self._json(200, self.server.sim.control(json.loads(raw or b"{}")))
        except ValueError as exc:
            self._json(400, {"error": str(exc).splitlines()[0]})

    def _json(self, status: int, data: Any) -> None:
        self.send_body(status, json.dumps(data).encode(), "application/json; charset=utf-8")

    def reset_connection(self) -> None:
        """Close without answering: linger 0 makes close() send RST, so the client sees a reset."""
        self.connection.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
        self.close_connection = True

    def send_body(
        self,
        status: int,
        body: bytes,
        ctype: str,
        headers: dict[str, str] | None = None,
        send_bytes: int | None = None,
    ) -> None:
        """Send one answer; send_bytes < len(body) cuts it short under a full Content-Length."""
        try:
            self.send_response(status)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            for name, value in (headers or {}).items():
                self.send_header(name, value)
            self.end_headers()
            self.wfile.write(body if send_bytes is None else body[:send_bytes])
        except OSError:
            self.close_connection = True

    def _search(self) -> None:
        answer_search(self, self.server.sim)
