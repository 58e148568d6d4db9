"""The sign-in email: a link that works once for an hour, and nothing the visitor typed but the
address. Pure: returns a RenderedEmail for the alerts' transport to send."""

from __future__ import annotations

from pathlib import Path

from jinja2 import Environment, FileSystemLoader, StrictUndefined, select_autoescape

from scheduler.alerts.render import RenderedEmail

TEMPLATES = Path(__file__).resolve().parent / "templates"
SUBJECT = "Sign in to SteamScout"

_env = Environment(
    loader=FileSystemLoader(TEMPLATES),
    autoescape=select_autoescape(["html"]),
    undefined=StrictUndefined,
    auto_reload=False,
)


def sign_in_url(public_url: str, token: str) -> str:
    """Return the address of the page that signs in with token."""
    return f"{public_url.rstrip('/')}/sign-in/{token}"


def render_sign_in(
    email: str, *, token: str, public_url: str, message_key: str, domain: str
) -> RenderedEmail:
    """Return the sign-in email to email; message_key makes its Message-ID (one per request)."""
    context = {"email": email, "link": sign_in_url(public_url, token)}
    return RenderedEmail(
        recipient=email,
        subject=SUBJECT,
        text=_env.get_template("email/sign_in.txt").render(context),
        html=_env.get_template("email/sign_in.html").render(context),
        message_id=f"<sign-in-{message_key}@{domain}>",
    )
