"""`scout parse-page FILE`: rows as JSON on stdout, one clear line on stderr for bad input."""

from __future__ import annotations

import json
import os
import subprocess
import unicodedata
from pathlib import Path

import pytest

from scheduler.cli import parse_page
from scheduler.cli.output import CLIError
from tests.support.cli import scout

ROOT = Path(__file__).resolve().parents[2]
CAPTURES = ROOT.parent / "shared" / "steam-captures"
EXPECTED = sorted(CAPTURES.glob("*.expected.json")) if CAPTURES.is_dir() else []
needs_captures = pytest.mark.skipif(
    not CAPTURES.is_dir(), reason=f"real Steam captures not found at {CAPTURES}"
)
KEYS = [
    "itemkey",
    "kind",
    "appid",
    "packageid",
    "bundleid",
    "title",
    "final_cents",
    "original_cents",
    "discount_pct",
    "is_free",
]

ROW = """<a href="https://store.steampowered.com/app/{n}/" data-ds-appid="{n}"
 data-ds-itemkey="App_{n}" class="search_result_row ds_collapse_flag">
 <span class="title">Game {n}</span>
 <div class="col search_price_discount_combined" data-price-final="{cents}">
  <div class="col search_discount"></div><div class="col search_price">{text}</div></div></a>
"""


def row(n: int, cents: str = "1999", text: str = "$19.99") -> str:
    return ROW.format(n=n, cents=cents, text=text)


def answer(html: str, total: int, start: int = 0, success: int = 1) -> str:
    return json.dumps(
        {"success": success, "results_html": html, "total_count": total, "start": start}
    )


@needs_captures
@pytest.mark.parametrize("expected_file", EXPECTED, ids=lambda p: p.name.split(".")[0])
def test_parse_page_prints_each_capture_row_in_the_expected_files_shape(
    expected_file: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    html = expected_file.with_name(expected_file.name.replace(".expected.json", ".html"))
    status, out, err = scout(capsys, "parse-page", str(html))
    assert (status, err) == (0, "")
    rows = json.loads(out)
    assert all(list(r) == KEYS for r in rows)
    for got, want in zip(rows, json.loads(expected_file.read_text()), strict=True):
        assert got == {k: want.get(k) for k in KEYS}


def test_parse_page_reads_a_json_search_answer(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    sub = row(2).replace('data-ds-itemkey="App_2"', 'data-ds-itemkey="Sub_7"')
    sub = sub.replace('data-ds-appid="2"', 'data-ds-appid="2,3" data-ds-packageid="7"')
    path = tmp_path / "page.json"
    path.write_text(answer(row(1) + sub, total=300), encoding="utf-8")
    status, out, _ = scout(capsys, "parse-page", str(path))
    rows = json.loads(out)
    assert status == 0
    assert [(r["itemkey"], r["appid"], r["packageid"]) for r in rows] == [
        ("App_1", 1, None),
        ("Sub_7", [2, 3], 7),
    ]


def test_parse_page_of_the_empty_last_page_of_a_catalogue_prints_an_empty_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "last.json"
    path.write_text(answer("\n", total=9624, start=9625))
    assert scout(capsys, "parse-page", str(path)) == (0, "[]\n", "")


def test_parse_page_warns_on_stderr_about_rows_it_could_not_read(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "rows.html"
    path.write_text(row(1) + row(2, "", "Coming soon") + row(3).replace("App_3", "Gift_3"))
    status, out, err = scout(capsys, "parse-page", str(path))
    assert status == 0
    assert [(r["itemkey"], r["final_cents"]) for r in json.loads(out)] == [
        ("App_1", 1999),
        ("App_2", None),
    ]
    lines = err.splitlines()
    assert len(lines) == 2 and all(line.startswith("scout: warning: ") for line in lines)
    assert "Gift_3" in err and "App_2" in err


@pytest.mark.parametrize(
    ("name", "content", "message"),
    [
        ("page.html", "<html><body>Access denied</body></html>", "no store rows found"),
        ("page.json", '{"success": 2}', "reports failure"),
        ("page.json", '{"success": 1, "results_html": "<a', "not JSON"),
        ("mid.json", answer("<div></div>", total=9624, start=100), "no readable rows"),
        ("bin.html", b"\xff\xfe\x00\x81", "not UTF-8"),
        ("empty.html", "", "no store rows found"),
    ],
    ids=["no-rows", "json-error", "cut-json", "empty-mid-page", "binary", "empty"],
)
def test_parse_page_of_unparseable_content_is_one_line_on_stderr(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    name: str,
    content: str | bytes,
    message: str,
) -> None:
    path = tmp_path / name
    path.write_bytes(content if isinstance(content, bytes) else content.encode("utf-8"))
    status, out, err = scout(capsys, "parse-page", str(path))
    assert (status, out) == (1, "")
    assert err.startswith("scout: error: ") and message in err and err.count("\n") == 1


@pytest.mark.parametrize("target", ["missing.html", "."], ids=["missing", "directory"])
def test_parse_page_of_a_file_it_cannot_read_is_one_line_on_stderr(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], target: str
) -> None:
    status, out, err = scout(capsys, "parse-page", str(tmp_path / target))
    assert (status, out) == (1, "")
    assert err.startswith("scout: error: cannot read ") and err.count("\n") == 1


@needs_captures
def test_the_scout_command_parses_a_capture_in_its_own_process() -> None:
    capture = CAPTURES / "cn_2022_search_topsellers.html"
    done = subprocess.run(
        [str(ROOT / ".venv" / "bin" / "scout"), "parse-page", str(capture)],
        capture_output=True,
        text=True,
        timeout=60,
        cwd=ROOT,
    )
    assert (done.returncode, done.stderr) == (0, "")
    rows = json.loads(done.stdout)
    assert len(rows) == 50 and rows[5]["itemkey"] == "Sub_54029" and rows[5]["appid"] == [730]


@pytest.mark.parametrize("kind", ["char-device", "fifo"])
def test_parse_page_refuses_a_file_that_is_not_regular_at_once(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], kind: str
) -> None:
    # /dev/zero used to be read until memory ran out; a FIFO without a writer blocked on open.
    target = Path("/dev/zero")
    if kind == "fifo":
        target = tmp_path / "pipe"
        os.mkfifo(target)
    status, out, err = scout(capsys, "parse-page", str(target))
    assert (status, out) == (1, "")
    assert err == f"scout: error: {target} is not a regular file\n"


def test_parse_page_refuses_a_file_over_the_size_limit_without_reading_it_whole(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "huge.html"
    with path.open("wb") as file:
        file.truncate(parse_page.MAX_BYTES + 1)  # sparse: nothing is written to disk
    status, out, err = scout(capsys, "parse-page", str(path))
    assert (status, out) == (1, "")
    assert err == f"scout: error: {path} is larger than 16 MiB: not a store page\n"


def test_parse_page_reads_a_file_of_exactly_the_size_limit(tmp_path: Path) -> None:
    path = tmp_path / "page.html"
    path.write_text(row(1))
    assert parse_page.read_text(path, limit=len(row(1).encode())) == row(1)
    with pytest.raises(CLIError, match="larger than"):
        parse_page.read_text(path, limit=len(row(1).encode()) - 1)


STEAM_ZERO_RESULTS = """<!DOCTYPE html>
<html class="responsive" lang="en"><head><title>Steam Search</title></head><body>
<div id="search_result_container" data-panel="{&quot;flow-children&quot;:&quot;column&quot;}">
  <div class="search_results_count">0 results match your search.</div>
  <div id="search_resultsRows">
  </div>
</div></body></html>
"""


@pytest.mark.parametrize(
    "content",
    [
        STEAM_ZERO_RESULTS,
        '<div id="search_result_container">No results were returned for that query.</div>',
        answer("\r\n<!-- List Items -->\r\n<!-- End List Items -->\r\n", total=0),
    ],
    ids=["search-page", "older-search-page", "infinite-answer"],
)
def test_parse_page_of_a_zero_results_search_prints_an_empty_array(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    path = tmp_path / "zero.html"
    path.write_text(content)
    assert scout(capsys, "parse-page", str(path)) == (0, "[]\n", "")


def test_parse_page_prints_no_control_character_of_a_hostile_title(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "evil.html"
    path.write_text(
        ROW.format(n=1, cents="1999", text="$19.99").replace(
            "Game 1", "Game&#27;]0;owned&#7; \x1b[2J1\u202e\x9b"
        )
    )
    status, out, err = scout(capsys, "parse-page", str(path))
    assert status == 0 and json.loads(out)[0]["title"] == "Game 1"
    assert not [c for c in out if unicodedata.category(c) == "Cc" and c != "\n"]


def test_parse_page_warnings_show_a_hostile_item_keys_control_characters_as_escapes(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    cut = row(2).replace("App_2", "App_2\x1b]0;owned\x07")[:150]  # the page ends inside it
    path = tmp_path / "cut.html"
    path.write_text(row(1) + cut)
    status, out, err = scout(capsys, "parse-page", str(path))
    assert status == 0 and [r["itemkey"] for r in json.loads(out)] == ["App_1"]
    assert "cut off" in err and "\\x1b]0;owned\\x07" in err
    assert not [c for c in err if unicodedata.category(c) == "Cc" and c != "\n"]
