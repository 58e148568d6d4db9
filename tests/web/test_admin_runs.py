"""/admin/runs: scrape and alert runs newest first, paged; a run's page lists what it failed,
with the reason, everything escaped."""

from __future__ import annotations

import html
import re
from datetime import timedelta

from models import AlertRun, ScrapeRun, Session, utcnow
from tests.support.admin import ADMIN, signed_in, with_admins
from tests.support.alerts import add_game, run_check, watch
from tests.support.scrapes import run_scrape

HOSTILE_TITLE = '<img src=x onerror="alert(1)"> Portal & Co'


def admin(scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    return client


def test_a_partial_scrape_shows_its_figures_and_each_failed_page_with_the_reason(
    db, worker, small_pages, scout_app
):
    small_pages.control({"games": 100, "faults": [{"kind": "500", "start": 40, "times": None}]})
    run = run_scrape()
    client = admin(scout_app)

    listing = client.get("/admin/runs").text
    page = client.get(f"/admin/runs/scrape/{run.id}").text

    row = listing[listing.index(f'href="/admin/runs/scrape/{run.id}"') :][:1200]
    assert 'class="state state-partial">partial' in row
    numbers = re.findall(r'<td class="num">(\d+)</td>', row)
    assert numbers == [str(run.pages_ok), "1", str(run.rows_new), str(run.rows_changed)]
    assert "4 ok, 1 failed of 5" in page
    failed = page[page.index('id="failed-heading"') :]
    assert '<td class="num">40</td>' in failed and "500" in failed
    assert failed.count('<td class="num">') == 1


def test_an_alert_run_lists_its_failed_alerts_with_address_game_and_reason(
    db, worker, smtp_server, scout_app
):
    with Session.begin() as session:
        add_game(session, 620, HOSTILE_TITLE, price=499)
    watch("ann@example.com", 620)
    watch("bob@example.com", 620)
    smtp_server.refuse("bob@example.com", "550 5.1.1 <script>no such user</script>")
    run = run_check()
    assert (run.sent, run.failed) == (1, 1)
    client = admin(scout_app)

    listing = client.get("/admin/runs").text
    page = client.get(f"/admin/runs/alerts/{run.id}").text

    row = listing[listing.index(f'href="/admin/runs/alerts/{run.id}"') :][:1200]
    assert re.findall(r'<td class="num">(\d+)</td>', row) == ["2", "1", "1", "0"]
    failed = page[page.index('id="failed-heading"') :]
    assert ">bob@example.com</a>" in failed and "ann@example.com" not in failed
    assert "&lt;img src=x" in failed and "<img" not in page and "<script>" not in page
    assert "no such user" in html.unescape(failed) and "550" in failed


def test_runs_are_newest_first_and_each_list_pages_on_its_own(db, scout_app):
    now = utcnow()
    with Session.begin() as session:
        for n in range(30):
            started = now - timedelta(hours=30 - n)
            session.add(ScrapeRun(task_id=f"s{n}", started_at=started, status="ok"))
            session.add(AlertRun(task_id=f"a{n}", started_at=started, status="done"))
    client = admin(scout_app)

    first = client.get("/admin/runs").text
    second = client.get("/admin/runs?scrape=2&alerts=1").text

    scrape_ids = [int(i) for i in re.findall(r'href="/admin/runs/scrape/(\d+)"', first)]
    assert len(scrape_ids) == 25 and scrape_ids == sorted(scrape_ids, reverse=True)
    assert len(re.findall(r'href="/admin/runs/scrape/(\d+)"', second)) == 5
    assert len(re.findall(r'href="/admin/runs/alerts/(\d+)"', second)) == 25
    assert "Page 2 of 2 (30 in all)" in second
    assert 'href="/admin/runs?scrape=2"' in first  # the alert list's own page is kept apart
    assert client.get("/admin/runs/scrape/999999").status_code == 404
    assert client.get("/admin/runs/alerts/999999").status_code == 404


def test_a_run_still_open_says_how_long_it_has_been_running(db, scout_app):
    with Session.begin() as session:
        session.add(
            ScrapeRun(task_id="open", started_at=utcnow() - timedelta(minutes=3), status="running")
        )
    client = admin(scout_app)
    assert re.search(r"running for 3m0\ds", client.get("/admin/runs").text)
