"""The demo's catalogue has plausible titles; the hostile ones stay the default for the tests."""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator

import pytest
import requests

from config import PROJECT_ROOT
from scheduler.catalogue.parse import parse_search_response
from storesim.data import SPECIAL_TITLES, game_truth, use_titles


@pytest.fixture
def plausible() -> Iterator[None]:
    previous = use_titles("plausible")
    try:
        yield
    finally:
        use_titles(previous)


def test_plausible_titles_are_varied_and_hold_no_markup_or_special_titles(plausible: None) -> None:
    titles = [game_truth(i).title for i in range(2000)]
    assert len(set(titles)) > 1200
    assert not any(special in title for title in titles for special in SPECIAL_TITLES)
    assert not any(set(title) & set('&<>"%') for title in titles)
    assert game_truth(16).itemkey == "App_1016" and game_truth(16).title == "Portal Circuit"


def test_the_hostile_titles_are_the_default_and_come_back_after_the_demo_style() -> None:
    hostile = "\n".join(game_truth(i, seed=1).title for i in range(1000))
    assert all(special in hostile for special in SPECIAL_TITLES)
    use_titles(use_titles("plausible"))
    assert "\n".join(game_truth(i, seed=1).title for i in range(1000)) == hostile


def test_an_unknown_title_style_is_refused() -> None:
    with pytest.raises(ValueError, match="titles 'weird'"):
        use_titles("weird")


@pytest.mark.parametrize("style", ["plausible", "hostile"])
def test_the_store_sim_command_serves_the_title_style_asked_for(style: str) -> None:
    command = [sys.executable, "-c", "from scheduler.cli import main; raise SystemExit(main())"]
    args = ["store-sim", "--games", "400", "--port", "0", "--titles", style]
    proc = subprocess.Popen(command + args, cwd=PROJECT_ROOT, stdout=subprocess.PIPE, text=True)
    try:
        assert proc.stdout is not None
        url = proc.stdout.readline().rsplit(" at ", 1)[1].strip()
        titles = []
        for start in range(0, 400, 100):
            query = f"start={start}&count=100&infinite=1"
            body = requests.get(f"{url}/search/results/?{query}", timeout=5).text
            titles += [listing.title for listing in parse_search_response(body, start).listings]
        hostile = sum(any(s in t for s in SPECIAL_TITLES) for t in titles)
        assert len(titles) == 400
        assert (hostile > 10) if style == "hostile" else (hostile == 0)
        proc.terminate()
        assert proc.wait(timeout=10) == 0
    finally:
        proc.kill()
        proc.communicate(timeout=10)
