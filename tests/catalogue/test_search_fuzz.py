"""Property-based tests (hypothesis) of catalogue search, against its definition in Python.

On both backends, for any catalogue and any query, the database answers exactly the games whose
every query word starts one of their words, in the documented order: it never fails, never
matches everything by accident and never misses a game a word of its own title would find.
"""

from __future__ import annotations

import pytest
from hypothesis import HealthCheck, example, given, settings
from hypothesis import strategies as st

from models.base import Session, get_engine
from models.words import MAX_WORD_LENGTH, search_text, search_words
from scheduler.catalogue.search import query_words, search_games
from tests.support import services
from tests.support.catalogue import T0
from tests.support.listings import listing, upsert

LETTERS = list("abcxyzABXÉéèüßŌōøæİıΣσςСтаЛ嗜血印0129") + ["\u0301", "²", "Ⅻ", "ﬁ", "ǅ"]
SEPARATORS = [" ", "  ", "-", "'", "’", ": ", ".", " & ", "_", "\t", "/", "®", "\u00a0", '"', "*"]
WORD = st.one_of(
    st.text(st.sampled_from(LETTERS), min_size=1, max_size=8),
    st.text(st.sampled_from("xé-"), min_size=60, max_size=140),  # over MAX_WORD_LENGTH
)
TITLE = st.one_of(
    st.lists(st.tuples(WORD, st.sampled_from(SEPARATORS)), min_size=1, max_size=6).map(
        lambda parts: "".join(word + sep for word, sep in parts).strip()
    ),
    # Any title a database can store: PostgreSQL takes no NUL (nor does the parser give one).
    st.text(st.characters(exclude_categories=["Cs"], exclude_characters="\x00"), max_size=30),
)
TITLES = st.lists(TITLE.filter(lambda title: title.strip() != ""), min_size=1, max_size=12)
# Anything a visitor could send: lone surrogates and NUL included.
ANY_TEXT = st.text(st.characters(codec=None, exclude_categories=[]), max_size=50)
SYNTAX = st.lists(
    st.sampled_from(['"', "*", "NEAR", "OR", "AND", "NOT", ":", "&", "|", "!", "(", ")", "^", "-"]),
    max_size=6,
).map(" ".join)
SETTINGS = settings(
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)


def starts_a_word(word: str, title: str) -> bool:
    return any(own.startswith(word) for own in search_text(title).split())


def expected(catalogue: dict[int, str], query: str) -> list[int]:
    """Return the steam ids search must answer, best first: the definition, in Python."""
    words = query_words(query)
    if not words:
        return []
    start = " ".join(search_words(query))
    found = [
        (not search_text(title).startswith(start), len(search_text(title)), steam_id)
        for steam_id, title in catalogue.items()
        if all(starts_a_word(word, title) for word in words)
    ]
    return [steam_id for *_, steam_id in sorted(found)]


def queries_for(data: st.DataObject, catalogue: dict[int, str]) -> list[str]:
    """Return queries built from the catalogue's titles and words, and hostile ones."""
    titles = list(catalogue.values())
    own_words = [word for title in titles for word in search_words(title)] or ["x"]
    derived = st.lists(
        st.tuples(st.sampled_from(own_words), st.integers(1, MAX_WORD_LENGTH + 1)).map(
            lambda pair: pair[0][: pair[1]]
        ),
        min_size=1,
        max_size=3,
    ).map(" ".join)
    query = st.one_of(st.sampled_from(titles), derived, ANY_TEXT, SYNTAX)
    return data.draw(st.lists(query, min_size=1, max_size=4))


@SETTINGS
@given(catalogue=TITLES, data=st.data())
def test_search_answers_exactly_the_definition_for_any_catalogue_and_query(db, catalogue, data):
    services.empty_all_tables(get_engine())
    games = dict(enumerate(catalogue, start=1))
    upsert([listing(steam_id, title=title) for steam_id, title in games.items()], T0)
    stored = {steam_id: title[:500] for steam_id, title in games.items()}

    for query in queries_for(data, stored):
        with Session() as session:
            found = [game.steam_id for game in search_games(session, query, limit=100)]
        assert found == expected(stored, query), query


HOSTILE_CATALOGUE = [
    "Tom & Jerry's <Big> Adventure",
    'The "Quoted" Quest',
    "Ōkami HD",
    "嗜血印 Bloody Spell",
    "Café Société: Crème Brûlée",
    "Сталкер: Зона",
    "<script>alert(1)</script> Simulator",
    "50% Off & Other Lies",
    "OR NEAR AND NOT",
    "* ^ : ( )",
]


@pytest.fixture
def hostile_catalogue(db: str) -> None:
    """The simulated store's hostile titles, stored once for all of a test's examples."""
    upsert([listing(n, title=title) for n, title in enumerate(HOSTILE_CATALOGUE, 1)], T0)


@SETTINGS
@given(query=st.one_of(ANY_TEXT, st.text(min_size=4000, max_size=5000), SYNTAX))
def test_no_query_fails_or_finds_a_game_it_does_not_describe(hostile_catalogue, query):
    with Session() as session:
        found = search_games(session, query, limit=1000)

    assert all(starts_a_word(word, game.title) for game in found for word in query_words(query))


@given(st.text(st.characters(codec=None, exclude_categories=[]), max_size=200))
@example("𝕬")  # NFKD made it an A after casefold had passed: 'A' in the index, 'a' asked
def test_folded_words_are_letters_and_digits_and_folding_them_again_changes_nothing(text):
    words = search_words(text)

    assert all(word.isalnum() and len(word) <= MAX_WORD_LENGTH for word in words)
    assert search_words(" ".join(words)) == words
    assert search_text(text).split()[: len(words)] == words
