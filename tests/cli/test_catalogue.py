"""scout scrape / games / runs: what an admin sees, and one clear line when something is off."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
import unicodedata
from pathlib import Path

import pytest
from sqlalchemy import func, select

from config import PROJECT_ROOT
from models import Game, Session, utcnow
from models.words import search_text, search_words
from scheduler.cli import main
from tests.support.catalogue import add_game

SCOUT = str(Path(sys.executable).parent / "scout")
GAMES = 230


def scout(*args: str, **env: str) -> subprocess.CompletedProcess[str]:
    """Run the real scout program with the test environment plus env."""
    return subprocess.run(
        [SCOUT, *args],
        env={**os.environ, **env},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=60,
    )


def test_scrape_wait_shows_progress_then_the_runs_figures(db, worker, small_pages, capsys):
    small_pages.control({"games": GAMES})
    assert main(["scrape", "--wait"]) == 0
    out, err = capsys.readouterr()
    assert "scrape queued" in out
    assert "pages" in err and "#" in err  # the progress bar
    assert ": ok" in out and f"rows seen: {GAMES}" in out and f"rows new: {GAMES}" in out
    assert "pages failed: 0" in out


def test_scrape_wait_exits_non_zero_and_lists_the_failed_pages(
    sqlite_db, worker, small_pages, capsys
):
    small_pages.control({"games": GAMES, "faults": [{"kind": "500", "start": 40, "times": None}]})
    assert main(["scrape", "--wait"]) == 1
    out = capsys.readouterr().out
    assert ": partial" in out and "pages failed: 1" in out and "start=40" in out


def test_games_lists_searches_and_prints_json(sqlite_db, worker, small_pages, capsys):
    small_pages.control({"games": GAMES})
    main(["scrape", "--wait"])
    capsys.readouterr()
    assert main(["games", "--json", "--limit", "1000"]) == 0
    rows = json.loads(capsys.readouterr().out)
    assert len(rows) == GAMES
    assert set(rows[0]) >= {"itemkey", "title", "final_cents", "currency", "is_free"}
    truth = small_pages.truth(7)
    assert main(["games", "--search", truth.title[:12], "--json", "--limit", "1000"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert truth.itemkey in [r["itemkey"] for r in found]
    for row in found:  # each word of the query starts a word of every title found
        own = search_text(row["title"]).split()
        assert all(any(o.startswith(w) for o in own) for w in search_words(truth.title[:12]))
    assert main(["games", "--search", "no such game anywhere"]) == 0
    assert capsys.readouterr().out.strip() == "no game matches"


def test_games_search_is_the_catalogue_search_best_first_on_both_databases(db, capsys):
    with Session.begin() as session:
        for steam_id, title in enumerate(["Pokémon Café", "Half-Life 2", "Half-Life", "Halo"], 1):
            add_game(session, steam_id, 999, title=title)

    assert main(["games", "--search", "HALF life", "--json"]) == 0
    assert [r["title"] for r in json.loads(capsys.readouterr().out)] == ["Half-Life", "Half-Life 2"]
    assert main(["games", "--search", "pokemon"]) == 0
    assert "Pokémon Café" in capsys.readouterr().out
    assert main(["games", "--search", '" OR *']) == 0
    assert capsys.readouterr().out.strip() == "no game matches"


def test_runs_lists_each_run_newest_first(sqlite_db, worker, small_pages, capsys):
    small_pages.control({"games": GAMES})
    main(["scrape", "--wait"])
    main(["scrape", "--wait"])
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    runs = json.loads(capsys.readouterr().out)
    assert [r["status"] for r in runs] == ["ok", "ok"]
    assert runs[0]["run_id"] > runs[1]["run_id"]
    assert (runs[0]["rows_new"], runs[1]["rows_new"]) == (0, GAMES)
    assert main(["runs"]) == 0
    table = capsys.readouterr().out.splitlines()
    assert table[0].split()[:2] == ["RUN", "STATUS"] and len(table) == 3


def test_scrape_with_redis_down_says_so_in_one_line():
    result = scout("scrape", REDIS_URL="redis://127.0.0.1:1/0")
    assert result.returncode != 0
    assert result.stderr.strip().count("\n") == 0, result.stderr
    assert "cannot reach Redis" in result.stderr and "Traceback" not in result.stderr


def test_a_bad_setting_stops_the_cli_with_one_line_naming_it():
    result = scout("games", STORE_PAGE_SIZE="lots")
    assert result.returncode == 2
    assert result.stderr.strip() == "scout: error: STORE_PAGE_SIZE='lots': must be a whole number"


def test_an_unmigrated_database_gets_one_line_not_a_traceback(tmp_path):
    sqlite3.connect(tmp_path / "empty.db").close()  # a file with no tables
    result = scout("games", DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert result.stderr.startswith("scout: database error: no such table")
    assert "alembic upgrade head" in result.stderr and "Traceback" not in result.stderr


def test_bad_arguments_get_usage_and_a_clear_line():
    result = scout("games", "--limit", "0")
    assert result.returncode == 2 and "'0' must be 1 to 1,000,000" in result.stderr


@pytest.mark.parametrize(
    "argv",
    [
        ["games", "--limit", "9" * 20],
        ["runs", "--limit", "9" * 20],
        ["games", "--limit", "1" * 5000],
        ["games", "--limit", "١٢"],
        ["alerts", "--limit", "9" * 20],
        ["alerts", "--limit", "-" + "9" * 20],
        ["schedule", "history", "--limit", "9" * 20],
    ],
    ids=[
        "games-huge",
        "runs-huge",
        "games-5000-digits",
        "games-arabic-digits",
        "alerts",
        "neg",
        "schedule-history",
    ],
)
def test_an_out_of_range_integer_argument_is_one_line_not_an_overflow_traceback(
    sqlite_db: str, argv: list[str]
) -> None:
    # A 20-digit --limit reached SQLite and raised OverflowError with a traceback.
    result = scout(*argv, DATABASE_URL=sqlite_db)
    assert result.returncode in (1, 2) and result.stdout == ""
    last = result.stderr.strip().splitlines()[-1]
    assert last.startswith("scout") and ": error: " in last and "limit" in last, last
    assert len(last) < 200 and result.stderr.count("\n") <= 2  # argparse adds its usage line
    assert "Traceback" not in result.stderr and "OverflowError" not in result.stderr


HOSTILE = "Evil\x1b]0;owned\x07 \x1b[2J\x1b[31mRed\u202egnp.exe\x9b1m\x7f"
OBEYED = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")


def obeyed(text: str) -> list[str]:
    """Return what a terminal would act on in text (control and bidi characters; not \\n)."""
    return [c for c in text if c != "\n" and (unicodedata.category(c) == "Cc" or c in OBEYED)]


def test_games_never_writes_a_stored_titles_control_characters_to_the_terminal(db, capsys):
    # Titles stored before the parser cleaned them, or by any other path, are still shown safely.
    with Session.begin() as session:
        add_game(session, 440, 1999, title=HOSTILE)
    assert main(["games"]) == 0
    table = capsys.readouterr().out
    assert obeyed(table) == [] and "\\x1b[2J" in table and "\\u202e" in table
    assert main(["games", "--json"]) == 0
    out = capsys.readouterr().out
    assert obeyed(out) == [] and json.loads(out)[0]["title"] == HOSTILE


def test_a_scrape_of_an_empty_catalogue_closes_its_run_ok_with_zero_rows(
    db, worker, small_pages, capsys
):
    # The store answers {"results_html": "", "total_count": 0}: one page, read, nothing in it.
    small_pages.control({"games": 0})
    assert main(["scrape", "--wait"]) == 0
    capsys.readouterr()
    assert main(["runs", "--json"]) == 0
    (run,) = json.loads(capsys.readouterr().out)
    assert (run["status"], run["total_count"], run["pages_total"], run["pages_ok"]) == (
        "ok",
        0,
        1,
        1,
    )
    assert (run["pages_failed"], run["rows_seen"], run["error_summary"]) == (0, 0, None)
    assert run["finished_at"] is not None
    with Session() as session:
        assert session.scalar(select(func.count()).select_from(Game)) == 0
    assert small_pages.request_count == 1


def test_a_long_title_is_cut_with_an_ellipsis_and_widens_no_other_row(db, capsys):
    # One 500-character title padded every row of `scout games` to 564 columns.
    long_title = ("The Very Long Edition " * 23)[:500]  # the longest the games table holds
    with Session.begin() as session:
        add_game(session, 440, 1999, title=long_title)
        add_game(session, 441, 999, title="Short")
    assert main(["games"]) == 0
    header, short_row, long_row = capsys.readouterr().out.splitlines()  # by title
    assert max(len(header), len(long_row), len(short_row)) < 140
    assert "The Very Long Edition The Very" in long_row and "…" in long_row
    assert long_row.index("19.99 USD") == short_row.index("9.99 USD") == header.index("PRICE")
    assert main(["games", "--json"]) == 0
    assert long_title in {game["title"] for game in json.loads(capsys.readouterr().out)}


def test_scrape_wait_with_no_worker_gives_up_in_one_line_and_leaves_the_task_queued(
    sqlite_url: str,
) -> None:
    # It waited for ever. A Redis db of its own: no worker of this test run listens there.
    import re

    import redis

    from tests.support import services

    with services.private_redis_db() as redis_url:
        result = subprocess.run(
            [SCOUT, "scrape", "--wait"],  # the README's command, its default bound
            env={**os.environ, "REDIS_URL": redis_url, "DATABASE_URL": sqlite_url},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=300,
        )
        queued = redis.Redis.from_url(redis_url).lrange("scrape", 0, -1)
    assert result.returncode == 1, result.stderr
    task = re.fullmatch(r"scrape queued \(task (\S+)\)\n", result.stdout)
    assert task is not None, result.stdout
    error = result.stderr.strip().rsplit("\r", 1)[-1]  # after the progress line, if any
    assert error == (
        "scout: error: gave up after 60s: no worker has started the scrape, which stays queued "
        f"(task {task[1]}): is the worker process running?"
    )
    assert [json.loads(message)["headers"]["id"] for message in queued] == [task[1]]


def test_scrape_wait_gives_up_on_a_run_no_page_lands_in(db: str) -> None:
    # A run opened by a worker that died, with beat down too: nothing would ever close it.
    from types import SimpleNamespace

    from scheduler.catalogue.runs import start_run
    from scheduler.cli.catalogue import wait_for_run
    from scheduler.cli.output import CLIError

    with Session.begin() as session:
        run_id = start_run(session, task_id="lost-task", now=utcnow()).id
    with pytest.raises(CLIError) as error:
        wait_for_run(SimpleNamespace(id="lost-task"), start_timeout=60, stalled_after=1)
    assert str(error.value) == (
        f"gave up after 1s without a page landing: run {run_id} looks stalled "
        "(is the worker running? the sweep closes it)"
    )
