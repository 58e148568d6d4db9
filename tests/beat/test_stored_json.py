"""A schedule row written by hand whose JSON is not JSON (SQLite keeps JSON as any text): beat
skips it with its reason and fires the rest; `scout schedule list/show` say why."""

from __future__ import annotations

import json
import logging
from datetime import timedelta

from sqlalchemy import text

from models import Session
from scheduler.beat import entries as store
from scheduler.cli import main
from tests.beat import test_tick
from tests.beat.test_outage import BEAT_LOGGER, beat_lines
from tests.beat.test_tick import T0, FrozenClock, add, sends

make_beat, queue = test_tick.make_beat, test_tick.queue  # the tick tests' fixtures


def test_an_entry_whose_stored_json_is_not_json_is_skipped_and_shown_with_its_reason(
    sqlite_db, redis_client, queue, make_beat, caplog, capsys
):
    clock = FrozenClock(T0 + timedelta(seconds=60))
    add("good", {"every": 60}, queue, T0)
    add("bad", {"every": 60}, queue, T0)
    with Session.begin() as session:  # written by hand: SQLite keeps JSON as any text
        session.execute(text("UPDATE schedule_entries SET kwargs = '{\"oops' WHERE name = 'bad'"))
    beat = make_beat(clock)
    with caplog.at_level(logging.INFO, logger=BEAT_LOGGER):
        for _ in range(3):
            beat.tick_once()
            clock.advance(seconds=61)
    skipped = [line for line in beat_lines(caplog) if "entry bad skipped" in line]
    assert skipped == [
        "beat: entry bad skipped until it is edited: bad kwargs: stored text '{\"oops' is not JSON"
    ]
    assert sends(redis_client, queue) == 3  # the good entry fired on every tick

    assert main(["schedule", "list"]) == 0
    out, err = capsys.readouterr()
    assert "bad: skipped by beat until edited: bad kwargs: stored text" in out and err == ""
    assert main(["schedule", "list", "--json"]) == 0
    rows = {row["name"]: row for row in json.loads(capsys.readouterr().out)}
    assert rows["bad"]["kwargs"] == '{"oops' and rows["good"]["problem"] is None
    assert main(["schedule", "show", "bad"]) == 0
    assert 'kwargs:       {"oops' in capsys.readouterr().out

    with Session.begin() as session:  # the admin's edit (the probe queue is no worker's)
        store.update_call(session, "bad", "ann", clock.at, {"kwargs": {}}, None)
    beat.tick_once()
    assert "bad" in beat.queue.entries  # edited, beat takes it back
