"""/admin: what `scout status` shows, from the same gathering, refreshed without JavaScript."""

from __future__ import annotations

import html
import json
import re

import redis

from scheduler.beat.lock import BeatLock
from scheduler.cli import main
from tests.support.admin import ADMIN, signed_in, with_admins
from tests.support.ports import free_port


def problems_on(page: str) -> list[str]:
    section = page[page.index('id="problems-heading"') :] if "problems-heading" in page else ""
    return [html.unescape(p) for p in re.findall(r"<li>([^<]*)</li>", section.split("</ul>")[0])]


def test_the_page_lists_the_same_problems_as_scout_status(sqlite_db, worker, scout_app, capsys):
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    page = client.get("/admin").text
    assert main(["status", "--json"]) == 1
    report = json.loads(capsys.readouterr().out)

    assert problems_on(page) == report["problems"] != []
    assert "no beat holds the schedule lock: is the beat process running?" in problems_on(page)
    for name in report["workers"]:
        assert name in page
    assert '<meta http-equiv="refresh" content="30">' in page and "<script" not in page


def test_all_good_with_a_worker_and_a_beat_and_the_beat_named(
    sqlite_db, worker, redis_url, scout_app
):
    lock = BeatLock(redis.Redis.from_url(redis_url), ttl=30)
    assert lock.hold()
    try:
        client = with_admins(scout_app)
        signed_in(client, ADMIN)
        page = client.get("/admin").text
    finally:
        lock.release()
    assert "All good" in page and lock.token in page
    assert re.search(r"celery \d+, scrape \d+, mail \d+", page)


def test_flower_is_linked_only_when_flower_url_is_set(sqlite_db, scout_app):
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    assert "Open Flower" not in client.get("/admin").text
    scout_app.update(flower_url="https://flower.example.com")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    assert 'href="https://flower.example.com"' in client.get("/admin").text


def test_redis_out_of_reach_is_a_problem_on_the_page_not_an_error_page(sqlite_db, scout_app):
    scout_app.update(redis_url=f"redis://127.0.0.1:{free_port()}/0")
    client = with_admins(scout_app)
    signed_in(client, ADMIN)

    response = client.get("/admin")

    assert response.status_code == 200
    assert problems_on(response.text)[0].startswith("Redis does not answer:")
    assert "no worker answers" in " ".join(problems_on(response.text))
