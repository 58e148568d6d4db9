"""The words of a title as search sees them: case, accents and punctuation left out.

One function for what the index holds (search_text) and one for what a query asks
(search_words), so that both backends index and look up exactly the same words.
"""

from __future__ import annotations

import re
import unicodedata

# PostgreSQL refuses a tsvector lexeme over 2,046 bytes, failing the whole upsert statement:
# a word is cut to this many characters (4 bytes each at most), in titles and queries alike.
MAX_WORD_LENGTH = 64
# Dropped, not split on: "Baldur's" is one word, baldurs.
_APOSTROPHES = dict.fromkeys(map(ord, "'`\u00b4\u2018\u2019\u02bc\u2032\uff07"), None)
_ASCII_WORD = re.compile(r"[a-z0-9]+")
_ASCII_JOINED = re.compile(r"[a-z0-9][^a-z0-9\s]+[a-z0-9]")  # e.g. half-life, s.t.a.l.k.e.r
_WORD = re.compile(r"[^\W_]+")  # letters and digits of any script


def _folded(text: str) -> tuple[str, re.Pattern[str]]:
    """Return text lower-cased, without accents and apostrophes, and its word pattern."""
    if text.isascii():
        return text.lower().replace("'", "").replace("`", ""), _ASCII_WORD
    # NFKD splits é into e and a combining accent, which goes, and makes 𝕬 an A; casefold
    # lowers it (ß is ss); NFKD again splits what casefold made (İ is i and a dot above).
    text = unicodedata.normalize("NFKD", text.translate(_APOSTROPHES))
    text = unicodedata.normalize("NFKD", text.casefold())
    return "".join(c for c in text if not unicodedata.combining(c)).translate(_APOSTROPHES), _WORD


def search_words(text: str) -> list[str]:
    """Return the words of text, folded: "Half-Life 2" gives half, life, 2. Never raises."""
    folded, word = _folded(text)
    return [w[:MAX_WORD_LENGTH] for w in word.findall(folded)]


def search_text(title: str) -> str:
    """Return what the index holds for title: its words, then each punctuated run joined.

    "Half-Life 2" gives "half life 2 halflife", so that both "half life" and "halflife" find it.
    """
    folded, word = _folded(title)
    words = [w[:MAX_WORD_LENGTH] for w in word.findall(folded)]
    if folded.isascii() and not _ASCII_JOINED.search(folded):
        return " ".join(words)  # the common title: nothing to join
    for run in folded.split():
        parts = word.findall(run)
        if len(parts) > 1:
            words.append("".join(parts)[:MAX_WORD_LENGTH])
    return " ".join(words)
