"""A catalogue of store titles and the queries people type, for bench/web.py. Deterministic.

Two kinds of titles:
- "varied" (the default): 1 to 6 words drawn from a 40,000-word invented vocabulary with a Zipf
  spread (a few words in thousands of titles, most in a handful), plus common title words
  ("The", "Simulator", "2", "Edition", ...) and storesim's plausible words; with Steam's
  punctuation: "Name-Name" compounds, "Name's", accents, "Title: Subtitle".
- "plausible": storesim's demo titles (24 x 24 words and 9 suffixes), the harshest case for a
  search: each word is in about 1 title in 24.
Queries ("typed"): 1 to 3 consecutive words of a title as printed, the last often cut after 3+
characters, in any case, a tenth of them with an accent dropped or a word no title has.
"short": one or two letters, the broadest a query gets.
"""

from __future__ import annotations

import itertools
import random
import unicodedata

from scheduler.catalogue.parse import Listing
from storesim import data

_CONSONANTS = "b c d f g h j k l m n p r s t v w z br cr dr fr gr kr pr tr st sh ch th".split()
_VOWELS = "a e i o u ai ea ou y".split()
_COMMON = (
    "the of and simulator 2 3 edition pack soundtrack a in tales legend world war adventure "
    "quest vr online remastered deluxe collection bundle definitive story dark space star "
    "battle city super escape dead life night hero heroes lost last house farm racing tycoon "
    "puzzle defense zombie kingdom craft island dungeon"
).split()
_PLAUSIBLE = [word.lower() for word in data._PLAUSIBLE_FIRST + data._PLAUSIBLE_SECOND]


def _vocabulary(rng: random.Random, size: int) -> list[str]:
    words: set[str] = set()
    while len(words) < size:
        syllables = rng.choice((1, 2, 2, 3, 3, 4))
        word = "".join(rng.choice(_CONSONANTS) + rng.choice(_VOWELS) for _ in range(syllables))
        words.add(word + (rng.choice("nrstlmk") if rng.random() < 0.3 else ""))
    ordered = sorted(words)
    rng.shuffle(ordered)
    return ordered


def _decorate(rng: random.Random, words: list[str]) -> str:
    """Return words as a store title: capitalised, with Steam's punctuation now and then."""
    words = [word.capitalize() for word in words]
    roll = rng.random()
    if roll < 0.05 and len(words) > 1:
        words[0] = f"{words[0]}-{words.pop(1)}"
    elif roll < 0.10:
        words[0] += "'s"
    elif roll < 0.13:
        words[-1] = words[-1].replace("e", "é", 1)
    if len(words) > 2 and rng.random() < 0.3:
        words[1] += ":"
    if rng.random() < 0.08:
        words.insert(0, "The")
    return " ".join(words)


def varied_titles(count: int, seed: int = 1) -> list[str]:
    """Return count titles from a Zipf-spread invented vocabulary (see the module)."""
    rng = random.Random(seed)
    vocabulary = _vocabulary(rng, 40_000)
    weights = list(itertools.accumulate(1 / (rank + 10) for rank in range(len(vocabulary))))
    titles = []
    for _ in range(count):
        words = []
        for _ in range(rng.choice((1, 2, 2, 3, 3, 3, 4, 4, 5, 6))):
            roll = rng.random()
            if roll < 0.25:
                words.append(rng.choice(_COMMON))
            elif roll < 0.4:
                words.append(rng.choice(_PLAUSIBLE))
            else:
                words.append(rng.choices(vocabulary, cum_weights=weights)[0])
        titles.append(_decorate(rng, words))
    return titles


def plausible_titles(count: int) -> list[str]:
    """Return storesim's demo titles of games 0 to count - 1."""
    previous = data.use_titles("plausible")
    try:
        return [data.game_truth(index).title for index in range(count)]
    finally:
        data.use_titles(previous)


def listings(titles: list[str]) -> list[Listing]:
    """Return one store app per title, with a plausible price."""
    return [
        Listing(
            itemkey=f"App_{steam_id}",
            kind="app",
            steam_id=steam_id,
            appids=(steam_id,),
            title=title,
            final_cents=99 + steam_id * 37 % 5000,
            original_cents=99 + steam_id * 37 % 5000,
            discount_pct=0,
            is_free=False,
            price_text="",
        )
        for steam_id, title in enumerate(titles, start=1)
    ]


def _typed(rng: random.Random, title: str) -> str:
    words = title.split()
    start = rng.randrange(len(words))
    query = words[start : start + rng.choice((1, 1, 2, 2, 3))]
    if rng.random() < 0.5 and len(query[-1]) > 3:
        query[-1] = query[-1][: rng.randint(3, len(query[-1]))]
    text = " ".join(query)
    roll = rng.random()
    if roll < 0.4:
        text = text.lower()
    elif roll < 0.5:
        text = text.upper()
    elif roll < 0.55:
        decomposed = unicodedata.normalize("NFKD", text)
        text = "".join(c for c in decomposed if not unicodedata.combining(c))
    elif roll < 0.6:
        text += " zqxv"  # a word no title has: nothing found, after the index said so
    return text


def queries(titles: list[str], count: int, seed: int = 2) -> dict[str, list[str]]:
    """Return {"typed": ..., "short": ...}: count queries people type, count // 4 short ones."""
    rng = random.Random(seed)
    typed = [_typed(rng, rng.choice(titles)) for _ in range(count)]
    letters = "abcdefghiklmnoprstw"
    short = [rng.choice(letters) + rng.choice(["", "a", "e", "o", "r"]) for _ in range(count // 4)]
    return {"typed": typed, "short": short}
