"""Headers every response carries: no framing, no sniffing, no referrer, a strict CSP.

The pages have no inline script or style, so the policy stays at default-src 'self'. Pages are
personal or carry tokens, so none is stored by a browser or a proxy (static files aside); HSTS
only when the public address is https.
"""

from __future__ import annotations

from flask import Flask, Response, request

CSP = (
    "default-src 'self'; img-src 'self' data:; object-src 'none'; base-uri 'none'; "
    "form-action 'self'; frame-ancestors 'none'"
)
HSTS = "max-age=63072000; includeSubDomains"


def init_app(app: Flask, *, https: bool) -> None:
    """Add the security headers to every response of app."""

    def add_headers(response: Response) -> Response:
        headers = response.headers
        headers.setdefault("Content-Security-Policy", CSP)
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "no-referrer")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        if https:
            headers.setdefault("Strict-Transport-Security", HSTS)
        if request.endpoint != "static":
            headers["Cache-Control"] = "no-store"
        return response

    app.after_request(add_headers)
