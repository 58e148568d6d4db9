"""The fast path writes byte for byte what the email package writes, or is not taken.

Every comparison gives both ways the same boundaries (token) and Date (now), so any byte that
differs is the fast path's.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from scheduler.alerts.mime import fast_bytes, fast_path_fits, library_bytes, wire_bytes
from scheduler.alerts.render import Digest, DigestItem, RenderedEmail, render_digest

TOKEN = "0123456789abcdef" * 4
NOW = 1_700_000_000.0
SENDER = "SteamScout <alerts@scout.test>"
# Pieces a hostile title is made of: encoded-word lookalikes, every line end, "From " at a line
# start, dots alone on a line, control characters, characters str.splitlines() breaks on but
# the generator does not, astral characters, and runs long enough to pass 998 octets together.
FRAGMENTS = [
    "=?utf-8?q?Hacked?=",
    "=?utf-8?b?SGFja2Vk?=",
    "=?iso-8859-1?q?caf=E9?=",
    "=",
    "=\n",
    "\r\n",
    "\n",
    "\r",
    "\nFrom ",
    "From ",
    "\n.\n",
    " ",
    "\t",
    " \n",
    "\x00",
    "\x0b",
    "\x0c",
    "\x1c",
    "\x85",
    "\u2028",
    "é",
    "Ω",
    "魔法少女",
    "𝄞",
    "😀",
    "x" * 500,
    "é" * 300,
    "Ω " * 40,
    "\nBcc: x@y.z",
    '<script>alert("x")</script> Tom & Jerry',
    "--=_0123456789abcdef",
]
BENCH_SENDER = "SteamScout <alerts@bench.test>"  # bench/alerts.py's MAIL_DEFAULT_SENDER


def hostile(characters: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    """Text made of hostile fragments and arbitrary characters."""
    piece = st.one_of(st.sampled_from(FRAGMENTS), st.text(characters, max_size=20))
    return st.lists(piece, max_size=8).map("".join)


def items(text: st.SearchStrategy[str]) -> st.SearchStrategy[list[DigestItem]]:
    """One to three drops with hostile titles and any prices."""
    cents = st.integers(min_value=0, max_value=10**12)
    drop = st.builds(
        DigestItem,
        alert_id=st.integers(min_value=1, max_value=10**9),
        title=text,
        new_cents=cents,
        old_cents=st.none() | cents,
        currency=st.sampled_from(["USD", "EUR", "GBP", "JPY"]) | text,
        lowest_before_cents=st.none() | cents,
        store_url=st.just("https://store.example/app/1/") | text,
    )
    return st.lists(drop, min_size=1, max_size=3)


@st.composite
def emails(draw: st.DrawFn, characters: st.SearchStrategy[str]) -> RenderedEmail:
    """A rendered digest of hostile drops; sometimes its subject is a raw hostile title."""
    text = hostile(characters)
    digest = Digest(
        subscriber_id=draw(st.integers(min_value=1, max_value=10**9)),
        email="ann@example.com",
        unsubscribe_token=draw(st.just("tok-123") | text),
        items=draw(items(text)),
    )
    email = render_digest(digest, public_url="https://scout.example", domain="scout.example")
    if draw(st.booleans()):
        email = replace(email, subject=draw(text))
    return email


def addresses(codec: str | None) -> st.SearchStrategy[str]:
    """Addresses as envelope_address lets them through (no CR, LF, NUL, <, >, comma or @)."""
    characters = st.characters(codec=codec, exclude_characters="\r\n\0<>,@")
    part = st.text(characters, min_size=1, max_size=30)
    return st.just("ann@example.com") | st.builds("{}@{}".format, part, part)


def senders(codec: str | None) -> st.SearchStrategy[str]:
    """MAIL_DEFAULT_SENDER values: ASCII and non-ASCII names, quotes, commas, bare addresses."""
    name = st.sampled_from(["SteamScout", "Stéam Scöut", '"Scout, Inc."', "魔法", ""])
    hostile_name = hostile(ANY if codec is None else st.characters(codec=codec))
    return st.one_of(
        st.sampled_from([SENDER, "alerts@scout.test", "Stéam Scöut <alerts@scout.test>"]),
        st.builds("{} <{}>".format, name | hostile_name, addresses(codec)),
    )


# Every code point; st.characters() leaves out lone surrogates unless asked for them.
ANY = st.characters() | st.characters(categories=["Cs"])
UTF8 = st.characters(codec="utf-8")  # every code point UTF-8 can encode
TOKENS = st.binary(min_size=32, max_size=32).map(bytes.hex)
NOWS = st.floats(min_value=0, max_value=4e9)


def outcome(build: Any, email: RenderedEmail, **kwargs: Any) -> bytes | tuple[type, str]:
    """Return the bytes build writes, or the type and text of the error it raises."""
    try:
        return build(email, **kwargs)  # type: ignore[no-any-return]
    except Exception as exc:  # noqa: BLE001  # compared, not hidden
        return type(exc), str(exc)


@settings(max_examples=400, deadline=None)
@given(
    email=emails(UTF8),
    recipient=addresses("ascii"),
    sender=senders("utf-8"),
    eight_bit=st.booleans(),
    now=NOWS,
    token=TOKENS,
)
def test_the_fast_path_writes_exactly_the_librarys_bytes(
    email, recipient, sender, eight_bit, now, token
):
    kwargs = dict(recipient=recipient, sender=sender, eight_bit=eight_bit, now=now, token=token)

    assert fast_path_fits(email, recipient=recipient, sender=sender)
    assert outcome(fast_bytes, email, **kwargs) == outcome(library_bytes, email, **kwargs)


@settings(max_examples=200, deadline=None)
@given(
    email=emails(ANY),
    recipient=addresses(None),
    sender=senders(None),
    eight_bit=st.booleans(),
    token=TOKENS,
)
def test_every_email_gets_the_librarys_bytes_or_its_error(
    email, recipient, sender, eight_bit, token
):
    kwargs = dict(recipient=recipient, sender=sender, eight_bit=eight_bit, now=NOW, token=token)

    assert outcome(wire_bytes, email, **kwargs) == outcome(library_bytes, email, **kwargs)


def digest_email(*titles: str, recipient: str = "ann@example.com") -> RenderedEmail:
    """The digest of one drop per title, as the renderer makes it."""
    drops = [
        DigestItem(n, title, 499, 1999, "USD", 899, f"https://store.example/app/{n}/")
        for n, title in enumerate(titles, start=1)
    ]
    digest = Digest(7, recipient, "tok-123", drops)
    return render_digest(digest, public_url="https://scout.example", domain="scout.example")


@pytest.mark.parametrize(
    "title",
    [
        "Portal 2",
        "From the Depths",
        "Line one\nFrom here on",
        "x" * 1200,
        "é" * 600,
        "=?utf-8?q?Hacked?=",
        "tab\tand trailing space ",
        "ends in a line end\n",
        "\r\n\r\n",
        "a\rb\r\nc\nd\x0be\x0cf\x85g\u2028h",
        "x" * 600 + "\x0c" + "x" * 600,
        "😀 𝄞 魔法少女 Ünïcødé",
        '<script>alert("x")</script> Tom & Jerry',
        "= =3D =\n=",
    ],
)
@pytest.mark.parametrize("eight_bit", [True, False])
@pytest.mark.parametrize("raw_subject", [True, False])
def test_hostile_examples_are_the_librarys_bytes(title, eight_bit, raw_subject):
    email = digest_email(title)
    if raw_subject:
        email = replace(email, subject=title)
    kwargs = dict(recipient="ann@example.com", sender=SENDER, eight_bit=eight_bit)

    assert fast_path_fits(email, recipient="ann@example.com", sender=SENDER)
    assert outcome(fast_bytes, email, **kwargs, now=NOW, token=TOKEN) == outcome(
        library_bytes, email, **kwargs, now=NOW, token=TOKEN
    )


def test_the_benchmarks_typical_email_takes_the_fast_path():
    for titles in (["Game 12 & <Co>"], ["Game 12 & <Co>", "Game 512 & <Co>"]):
        email = digest_email(*titles, recipient="user12@example.com")
        assert fast_path_fits(email, recipient=email.recipient, sender=BENCH_SENDER)


@pytest.mark.parametrize(
    ("change", "recipient"),
    [
        ({}, "ünïcødé@example.com"),  # policy.SMTPUTF8 writes this one
        ({"subject": "lone \ud800 surrogate"}, "ann@example.com"),
        ({"text": "lone \udfff surrogate"}, "ann@example.com"),
        ({"text": ""}, "ann@example.com"),
        ({"html": ""}, "ann@example.com"),
        ({"headers": {"Content-Type": "text/plain"}}, "ann@example.com"),
        ({"headers": {"MIME-Version": "2.0"}}, "ann@example.com"),
        ({"headers": {"X-Note": "\udc80"}}, "ann@example.com"),
    ],
)
def test_an_email_outside_the_fast_paths_domain_goes_the_librarys_way(change, recipient):
    email = replace(digest_email("Café"), **change)
    kwargs = dict(recipient=recipient, sender=SENDER, eight_bit=True, now=NOW, token=TOKEN)

    assert not fast_path_fits(email, recipient=recipient, sender=SENDER)
    assert outcome(wire_bytes, email, **kwargs) == outcome(library_bytes, email, **kwargs)


def test_a_surrogate_in_the_sender_goes_the_librarys_way():
    assert not fast_path_fits(digest_email("Café"), recipient="a@b.c", sender="S\udc80 <a@b.c>")


@pytest.mark.parametrize(
    ("subject", "sender"),
    [
        ("\nBcc: x@y.z", "SteamScout <alerts@scöut.test>"),  # the sender raises first
        ("\nBcc: x@y.z", SENDER),  # the Subject's fold raises
        ("fine", "SteamScout <alerts@scöut.test>"),
    ],
)
def test_an_email_the_library_refuses_gets_the_librarys_error(subject, sender):
    email = replace(digest_email("Portal 2"), subject=subject)
    kwargs = dict(recipient="ann@example.com", sender=sender, eight_bit=True, now=NOW, token=TOKEN)

    library = outcome(library_bytes, email, **kwargs)

    assert isinstance(library, tuple)
    assert outcome(fast_bytes, email, **kwargs) == library
