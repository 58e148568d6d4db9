"""The admin console under test: an app with ADMIN_EMAILS set, and clients signed in as whom."""

from __future__ import annotations

import re
import time
from typing import Any

from flask.testing import FlaskClient

from config import load_config
from tests.support.app import AppUnderTest
from tests.support.web import sign_in_as

ADMIN = "root@example.com"
OTHER_ADMIN = "ops@example.com"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')


def with_admins(scout_app: AppUnderTest, *emails: str) -> FlaskClient:
    """Rebuild the app with ADMIN_EMAILS set to these addresses, read as config.py reads the
    variable (on the database in force); return a client."""
    admins = load_config({"ADMIN_EMAILS": ", ".join(emails or (ADMIN, OTHER_ADMIN))})
    app = scout_app.update(admin_emails=admins.admin_emails)
    return app.test_client()


def signed_in(client: FlaskClient, email: str, *, hours_ago: float = 0) -> int:
    """Sign client in as email, the sign-in made hours_ago; return the subscriber id."""
    subscriber_id = sign_in_as(client, email)
    with client.session_transaction() as cookie:
        cookie["at"] = int(time.time() - hours_ago * 3600)
    return subscriber_id


def token(client: FlaskClient, path: str) -> str:
    """Return the CSRF token of the first form on the admin page at path."""
    page = client.get(path)
    match = _CSRF.search(page.text)
    assert match, f"no form on {path}: {page.status_code}"
    return match.group(1)


def admin_post(client: FlaskClient, path: str, data: dict[str, Any]) -> Any:
    """POST data to an admin page with the CSRF token of its own form."""
    return client.post(path, data={"csrf_token": token(client, path), **data})
