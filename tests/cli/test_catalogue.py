"""scout scrape / games / runs: what an admin sees, and one clear line when something is off."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

from config import PROJECT_ROOT
from scheduler.cli import main

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
    title = small_pages.truth(7).title
    assert main(["games", "--search", title[:12], "--json"]) == 0
    found = json.loads(capsys.readouterr().out)
    assert found and all(title[:12].lower() in r["title"].lower() for r in found)
    assert main(["games", "--search", "no such game anywhere"]) == 0
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
    result = scout("games", DATABASE_URL=f"sqlite:///{tmp_path / 'empty.db'}")
    assert result.returncode == 1
    assert result.stderr.startswith("scout: database error: no such table")
    assert "alembic upgrade head" in result.stderr and "Traceback" not in result.stderr


def test_bad_arguments_get_usage_and_a_clear_line():
    result = scout("games", "--limit", "0")
    assert result.returncode == 2 and "'0' must be 1 or more" in result.stderr
