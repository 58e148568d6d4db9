"""Property-based fuzzing (hypothesis) of `scout subscribe` and `scout watch add` arguments.

Whatever an admin types, the command either does what it says in one line on stdout, or says
what is wrong in one line on stderr and stores nothing; it never shows a traceback, and never
echoes a character a terminal would act on.
"""

from __future__ import annotations

import unicodedata

import pytest
from hypothesis import HealthCheck, event, example, given, settings
from hypothesis import strategies as st

from scheduler.cli import main
from tests.support.cli import ANN, counts

pytestmark = pytest.mark.usefixtures("catalogue")  # on SQLite and PostgreSQL, two games
BIDI = set("\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
HOSTILE_PIECES = [
    "\x00", "\x1b[2J", "\x1b]0;x\x07", "\u202e", "\x9b", "\n", "\t", " ", "%", "-", "--",
    "é", "日本", "ü", "\ud800", "١٢", "1_000", "9" * 30, "1" * 5000, "'", '"', ";", "\\",
]  # fmt: skip


def hostile_text(*likely: str) -> st.SearchStrategy[str]:
    """Return a strategy of strings: plausible ones, pieces of hostile ones, and anything."""
    return st.one_of(
        st.sampled_from(likely) if likely else st.nothing(),
        st.lists(st.sampled_from([*likely, *HOSTILE_PIECES]), min_size=1, max_size=5).map("".join),
        st.text(max_size=40),
    )


EMAILS = st.one_of(
    st.emails(),
    hostile_text(ANN, "bob@example.com", "ünïcødé@exämple.com", "@", "a@b", "x" * 300 + "@e.com"),
)
ITEMS = hostile_text(
    "440",
    "App_440",
    "app/440",
    "Sub_54029",
    "https://store.steampowered.com/app/440/x/",
    "App_99999999999",
)
PRICES = hostile_text("19.99", "$5", "5 USD", "0", "-5", "12.345", "1,2,3", "999999999.99")
PERCENTS = hostile_text("50", "50%", "0", "100", "101", "-1")


def run(capsys: pytest.CaptureFixture[str], argv: list[str]) -> tuple[int, str, str]:
    """Run scout in this process; argparse's own exits count as a status, like the shell's."""
    try:
        status = main(argv)
    except SystemExit as exc:  # argparse: usage line, then the error line
        status = int(exc.code or 0)
    out, err = capsys.readouterr()
    return status, out, err


def obeyed(text: str) -> list[str]:
    return [c for c in text if c != "\n" and (unicodedata.category(c) == "Cc" or c in BIDI)]


def assert_one_clear_line(status: int, out: str, err: str) -> None:
    event(f"exit {status}")
    assert "Traceback" not in err
    assert obeyed(out) == [] and obeyed(err) == [], (out, err)
    if status == 0:
        assert out.count("\n") == 1 and err == "", (out, err)
        return
    assert out == ""
    lines = err.splitlines()
    error = lines[-1]
    assert error.startswith("scout") and ": error: " in error, err
    assert len(lines) == 1 or (status == 2 and lines[0].startswith("usage: ")), err
    assert len(error) < 500, error


FUZZ = settings(
    max_examples=150,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


@FUZZ
@given(email=EMAILS)
@example(email="Ann@Example.com\x1b[2J")
@example(email="ünïcødé@exämple.com")
@example(email="-" + ANN)
@example(email="-h" + "x" * 5000)  # argparse quoted it whole: "ignored explicit argument"
def test_subscribe_with_any_argument_succeeds_in_one_line_or_refuses_and_stores_nothing(
    capsys, email: str
) -> None:
    before = counts()
    status, out, err = run(capsys, ["subscribe", email])
    assert_one_clear_line(status, out, err)
    after = counts()
    if status == 0:
        assert after[0] in (before[0], before[0] + 1) and after[1:] == before[1:]
    else:
        assert after == before


@st.composite
def watch_argv(draw: st.DrawFn) -> list[str]:
    """Return `watch add` arguments: an address, an item and one (or no, or two) rules."""
    rules = [["--below", draw(PRICES)], ["--discount", draw(PERCENTS)], ["--new-low"]]
    chosen = draw(st.lists(st.sampled_from(rules), min_size=0, max_size=2))
    email = draw(st.sampled_from([ANN]) | EMAILS)
    return ["watch", "add", email, draw(ITEMS), *(part for rule in chosen for part in rule)]


@FUZZ
@given(argv=watch_argv())
@example(argv=["watch", "add", ANN, "440", "--discount", "١٠"])
@example(argv=["watch", "add", ANN, "440", "--discount", "9" * 5000])
@example(argv=["watch", "add", ANN, "440", "--below", "1" * 5000])
@example(argv=["watch", "add", ANN, "App_" + "9" * 30, "--new-low"])
@example(argv=["watch", "add", ANN, "440\x00", "--new-low"])
@example(argv=["watch", "add", ANN, "-h" + "1" * 5000, "--new-low"])
def test_watch_add_with_any_arguments_succeeds_in_one_line_or_refuses_and_stores_nothing(
    capsys, argv: list[str]
) -> None:
    run(capsys, ["subscribe", ANN])
    before = counts()
    status, out, err = run(capsys, argv)
    assert_one_clear_line(status, out, err)
    after = counts()
    if status == 0:
        assert after[0] == before[0] and after[1] in (before[1], before[1] + 1)
    else:
        assert after == before
