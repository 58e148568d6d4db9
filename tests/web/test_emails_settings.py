"""/settings: when the emails come, with every bad input refused by one line."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import select

from models import Session, Subscriber
from tests.support.web import post, sign_in_as


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


def schedule(subscriber_id: int) -> tuple[str, int | None, str | None]:
    with Session() as session:
        row = session.get_one(Subscriber, subscriber_id)
        return row.frequency, row.digest_hour, row.timezone


def test_choosing_a_daily_digest_at_an_hour_and_back(db, client):
    ann = sign_in_as(client, "ann@example.com")
    assert 'value="immediate" checked' in client.get("/settings").text

    daily = {"frequency": "daily", "hour": "7", "timezone": "Europe/Berlin"}
    response = post(client, "/settings", daily, token_from="/settings")

    assert response.status_code == 302 and schedule(ann) == ("daily", 7, "Europe/Berlin")
    page = client.get("/settings").text
    assert "One email a day at 07:00 (Europe/Berlin)" in page
    assert "Your next digest: " in page and " 07:00 Europe/Berlin" in page
    assert 'value="daily" checked' in page and '<option value="7" selected>' in page
    back = post(client, "/settings", {"frequency": "immediate"}, token_from="/settings")
    assert back.status_code == 302 and schedule(ann)[0] == "immediate"


@pytest.mark.parametrize(
    ("form", "message"),
    [
        ({"frequency": "daily", "hour": "24", "timezone": "UTC"}, "from 0 to 23, not '24'"),
        ({"frequency": "daily", "hour": "8", "timezone": "Mars/Base"}, "unknown time zone"),
        ({"frequency": "daily", "hour": "8", "timezone": "x" * 5000}, "at most 64 characters"),
        ({"frequency": "hourly"}, "unknown frequency 'hourly'"),
        ({"frequency": "daily", "hour": "", "timezone": "UTC"}, "from 0 to 23"),
    ],
)
def test_a_bad_setting_gets_one_line_and_changes_nothing(db, client, form, message):
    ann = sign_in_as(client, "ann@example.com")

    response = post(client, "/settings", form, token_from="/settings")

    errors = re.findall(r'<p class="error"[^>]*>([^<]*)</p>', response.text)
    assert response.status_code == 400 and len(errors) == 1
    assert message in errors[0].replace("&#39;", "'")
    assert schedule(ann) == ("immediate", None, None)


def test_settings_need_a_sign_in_and_a_csrf_token(db, client):
    assert client.post("/settings", data={"frequency": "daily"}).status_code == 400
    ann = sign_in_as(client, "ann@example.com")
    client.get("/settings")
    assert client.post("/settings", data={"frequency": "daily", "hour": "8"}).status_code == 400
    assert schedule(ann)[0] == "immediate"
    with Session() as session:
        assert session.scalars(select(Subscriber.frequency)).all() == ["immediate"]
