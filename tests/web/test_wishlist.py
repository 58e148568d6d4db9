"""The wishlist page: every bad input gets one line and records nothing; a good one queues an
import that a worker runs against the simulated store; five minutes between two; the report."""

from __future__ import annotations

import re

import pytest
from sqlalchemy import func, select

from models import Session, WishlistImport
from scheduler.wishlist.profile import ProfileError, read_profile
from tests.support.scrapes import run_scrape
from tests.support.web import csrf, post, sign_in_as
from tests.support.wishlist import age_imports, finished


@pytest.fixture
def client(scout_app):
    return scout_app.app.test_client()


def page_errors(text: str) -> list[str]:
    return [
        error.replace("&#39;", "'").replace("&lt;", "<").replace("&gt;", ">").replace("&amp;", "&")
        for error in re.findall(r'<p class="error[^"]*"[^>]*>([^<]*)</p>', text)
    ]


def imports_of(subscriber_id: int | None = None) -> int:
    with Session() as session:
        query = select(func.count()).select_from(WishlistImport)
        if subscriber_id is not None:
            query = query.where(WishlistImport.subscriber_id == subscriber_id)
        return session.scalar(query) or 0


def only_import() -> int:
    with Session() as session:
        return session.scalars(select(WishlistImport.id)).one()


def test_a_signed_out_visitor_is_sent_to_sign_in_and_starts_nothing(db, client):
    response = client.get("/wishlist")

    assert response.status_code == 302
    assert response.headers["Location"].startswith("/?next=/wishlist")
    token = csrf(client)
    posted = client.post("/wishlist", data={"csrf_token": token, "profile": "wishlister"})
    assert posted.status_code == 302 and imports_of() == 0


def test_a_post_without_its_csrf_token_starts_nothing(db, client):
    sign_in_as(client, "ann@example.com")

    response = client.post("/wishlist", data={"profile": "wishlister", "rule": "new_low"})

    assert response.status_code == 400 and "This form has expired" in response.text
    assert imports_of() == 0


@pytest.mark.parametrize(
    ("profile", "message"),
    [
        ("7656119796028793", "not a SteamID64: '7656119796028793' has 16 digits"),
        ("12345678901234567", "not the SteamID64 of a Steam account: 12345678901234567"),
        ("https://evil.example/id/gaben", "not a Steam profile address 'https://evil.example/id/gaben'"),
        ("https://steamcommunity.com.evil.example/id/gaben", "not a Steam profile address"),
        ("gabe newell", "not a Steam custom URL name 'gabe newell'"),
        ("x" * 5000, "A Steam profile's address has at most 200 characters."),
        ("javascript:alert(document.cookie)", "not a Steam profile address"),
        ("wish\x00lister", "not a Steam custom URL name"),
        ("<img src=x onerror=alert(1)>", "not a Steam custom URL name"),
        ("", "Enter your SteamID64 or your Steam profile's address."),
    ],
)  # fmt: skip
def test_a_bad_profile_gets_one_line_and_records_nothing(db, client, profile, message):
    ann = sign_in_as(client, "ann@example.com")

    response = post(client, "/wishlist", {"profile": profile, "rule": "new_low", "value": ""})

    errors = page_errors(response.text)
    assert response.status_code == 400 and len(errors) == 1, errors
    assert errors[0].startswith(message) or message in errors[0]
    assert "<img src=x" not in response.text and "\x00" not in response.text
    assert imports_of(ann) == 0


def test_the_page_and_read_profile_say_the_same_line(db, client):
    sign_in_as(client, "ann@example.com")
    with pytest.raises(ProfileError) as expected:
        read_profile("https://steamcommunity.com/groups/valve")

    response = post(client, "/wishlist", {"profile": "https://steamcommunity.com/groups/valve"})

    assert page_errors(response.text) == [str(expected.value)]


@pytest.mark.parametrize(
    ("rule", "value", "message"),
    [
        ("below", "abc", "not a price 'abc'"),
        ("discount", "150", "the discount must be 1 to 100 percent"),
        ("sideways", "5", "Not a valid choice."),
    ],
)
def test_a_bad_rule_gets_the_watchlists_line_and_records_nothing(db, client, rule, value, message):
    ann = sign_in_as(client, "ann@example.com")

    response = post(client, "/wishlist", {"profile": "wishlister", "rule": rule, "value": value})

    errors = page_errors(response.text)
    assert response.status_code == 400 and len(errors) == 1 and message in errors[0]
    assert imports_of(ann) == 0


def test_an_import_runs_in_a_worker_and_its_report_replaces_the_refreshing_page(
    db, steam, worker, client
):
    assert run_scrape().status == "ok"
    ann = sign_in_as(client, "ann@example.com")
    steam.set_faults({"kind": "slow", "endpoint": "wishlist", "delay": 1.5})

    response = post(
        client,
        "/wishlist",
        {"profile": "https://steamcommunity.com/id/wishlister/", "rule": "discount", "value": "50"},
    )

    assert response.status_code == 302 and response.headers["Location"] == "/wishlist"
    running = client.get("/wishlist").text
    assert '<meta http-equiv="refresh" content="3">' in running and "Importing" in running
    assert finished(only_import()).status == "done"
    done = client.get("/wishlist").text
    assert 'http-equiv="refresh"' not in done
    assert re.search(r'id="report-added">30<', done) and re.search(r'id="report-missing">3<', done)
    assert "steamcommunity.com/id/wishlister" in done and "50% off or more" in done
    assert imports_of(ann) == 1


def test_a_private_wishlist_reads_private_or_empty_on_the_page(db, steam, worker, client):
    sign_in_as(client, "ann@example.com")

    post(client, "/wishlist", {"profile": "private_wisher", "rule": "new_low"})

    finished(only_import())
    page = client.get("/wishlist").text
    assert "this wishlist is private or empty (Steam does not say which)" in page
    assert "this profile is private" in page


def test_a_failed_import_says_why_on_the_page(db, steam, worker, client):
    sign_in_as(client, "ann@example.com")

    post(client, "/wishlist", {"profile": "nobody_has_this", "rule": "new_low"})

    finished(only_import())
    assert (
        "The import failed: profile not found: Steam has no profile" in client.get("/wishlist").text
    )


def test_a_second_import_within_five_minutes_is_refused_with_when(db, client):
    ann = sign_in_as(client, "ann@example.com")
    assert (
        post(client, "/wishlist", {"profile": "wishlister", "rule": "new_low"}).status_code == 302
    )

    again = post(client, "/wishlist", {"profile": "empty_wisher", "rule": "new_low"})

    errors = page_errors(again.text)
    assert again.status_code == 400 and len(errors) == 1
    assert re.fullmatch(
        r"one wishlist import per 5 minutes: the next can start at \d\d:\d\d:\d\d UTC, "
        r"in (5 minutes|\d+ seconds)",
        errors[0],
    ), errors
    assert imports_of(ann) == 1
    age_imports(ann)
    assert (
        post(client, "/wishlist", {"profile": "empty_wisher", "rule": "new_low"}).status_code == 302
    )
    assert imports_of(ann) == 2


def test_nobody_sees_anothers_import(db, scout_app):
    ann_client, bob_client = scout_app.app.test_client(), scout_app.app.test_client()
    sign_in_as(ann_client, "ann@example.com")
    sign_in_as(bob_client, "bob@example.com")

    post(ann_client, "/wishlist", {"profile": "wishlister", "rule": "new_low"})

    assert "steamcommunity.com/id/wishlister" in ann_client.get("/wishlist").text
    assert "Last import" not in bob_client.get("/wishlist").text
    bobs = post(bob_client, "/wishlist", {"profile": "wishlister", "rule": "new_low"})
    assert bobs.status_code == 302


def test_an_import_stays_recorded_for_the_sweep_when_the_task_queue_is_down(db, client, scout_app):
    from celery import Celery

    ann = sign_in_as(client, "ann@example.com")
    # A real Celery app whose broker is a port nothing listens on: publishing fails.
    down = Celery("down", broker="redis://127.0.0.1:9/0", set_as_current=False)
    scout_app.app.extensions["celery"] = down
    try:
        response = post(client, "/wishlist", {"profile": "wishlister", "rule": "new_low"})
    finally:
        scout_app.update()

    assert response.status_code == 302 and imports_of(ann) == 1
    with Session() as session:
        assert session.scalars(select(WishlistImport.status)).one() == "queued"
