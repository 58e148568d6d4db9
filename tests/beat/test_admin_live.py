"""The admin console against a real `celery beat` process: an edit made on the page reaches the
running beat within a second, and disabling an entry on the page stops it firing."""

from __future__ import annotations

import time

import pytest

from models import utcnow
from scheduler.beat import entries as store
from tests.support.admin import ADMIN, admin_post, signed_in, token, with_admins
from tests.support.beat import Watcher, add_probe, holder_pid, wait_for

pytestmark = pytest.mark.slow
PAGE = "/admin/schedule/probe"


def add_cron_probe(queue: str) -> None:
    """A cron entry (once a year) sending celery.backend_cleanup to a queue nobody consumes."""
    spec = {
        "task": "celery.backend_cleanup",
        "schedule": {"cron": "0 3 1 1 *"},
        "options": {"queue": queue},
    }
    store.in_transaction(lambda s: store.add_entry(s, "probe", spec, "test", utcnow(), None))


@pytest.mark.parametrize("processes", ["beats", "postgres_beats"])
def test_an_edit_on_the_page_reaches_a_running_beat_within_a_second(
    request, beat_redis, probe_queue, scout_app, processes
):
    beats = request.getfixturevalue(processes)
    add_cron_probe(probe_queue)
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    beat = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(beat_redis, probe_queue)
    try:
        time.sleep(0.5)
        form = {"do": "save", "cron": "", "every": "2s", "csrf_token": token(client, PAGE)}
        edited = time.monotonic()
        assert client.post(PAGE, data=form).status_code == 302
        wait_for(lambda: watcher.sent, 5, "the first send after the edit")
        delay = watcher.sent[0][0] - edited
        assert 1.9 <= delay < 3.0  # due 2 s after the edit, and the edit applied within 1 s
        assert "Traceback" not in beats.log(beat)
    finally:
        watcher.stop()


def test_disabling_on_the_page_stops_a_running_entry(beats, beat_redis, probe_queue, scout_app):
    add_probe("probe", 1, probe_queue)
    client = with_admins(scout_app)
    signed_in(client, ADMIN)
    beat = beats.start()
    wait_for(lambda: holder_pid(beat_redis) == beat.pid, 20, "beat to take the lock")
    watcher = Watcher(beat_redis, probe_queue)
    try:
        wait_for(lambda: len(watcher.sent) >= 2, 5, "two sends of the enabled entry")
        assert admin_post(client, "/admin/schedule/probe", {"do": "disable"}).status_code == 302
        disabled = time.monotonic()
        time.sleep(3)
        assert watcher.since(disabled + 1.0) == []
    finally:
        watcher.stop()
    page = client.get("/admin/schedule/probe").text
    assert f'<td class="by">{ADMIN}</td>' in page and "<td>disable</td>" in page
    last_run = page[page.index("<dt>Last run</dt>") :][:600]
    assert "waiting for a worker" in last_run  # nobody consumes the probe queue
