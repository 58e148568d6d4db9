"""Catalogue search on SQLite and PostgreSQL: word prefixes, folding, ranking, keeping in step."""

from __future__ import annotations

import pytest
from sqlalchemy import delete, text

from models.base import Session
from models.game import Game
from models.words import search_words
from scheduler.catalogue.search import MAX_QUERY_WORDS, search_games
from tests.support.catalogue import T0, at
from tests.support.listings import listing, upsert

TITLES = {
    1: "Half-Life 2",
    2: "Pokémon Café Deluxe",
    3: "Baldur's Gate 3",
    4: "S.T.A.L.K.E.R.: Shadow of Chernobyl",
    5: "Straße der Ritter",
    6: "Sid Meier’s Civilization® VI",
    7: "ŌKAMI HD",
    8: "Сталкер: Зона",
    9: "嗜血印 Bloody Spell",
    10: "Tom & Jerry's <Big> Adventure",
    11: "𝕱𝖗𝖆𝖐𝖙𝖚𝖗 Tales",
}


def titles(query: str, limit: int = 20) -> list[str]:
    with Session() as session:
        return [found.title for found in search_games(session, query, limit=limit)]


def store(names: dict[int, str], when=T0) -> None:
    upsert([listing(steam_id, title=title) for steam_id, title in names.items()], when)


@pytest.mark.parametrize(
    ("query", "title"),
    [
        ("half life", "Half-Life 2"),
        ("HALF-LIFE", "Half-Life 2"),
        ("halflife", "Half-Life 2"),
        ("life half 2", "Half-Life 2"),
        ("pokemon", "Pokémon Café Deluxe"),
        ("POKÉMON café", "Pokémon Café Deluxe"),
        ("poke\u0301mon", "Pokémon Café Deluxe"),  # a decomposed accent, as some keyboards type
        ("baldurs", "Baldur's Gate 3"),
        ("Baldur’s gate", "Baldur's Gate 3"),
        ("bald", "Baldur's Gate 3"),
        ("stalker", "S.T.A.L.K.E.R.: Shadow of Chernobyl"),
        ("s.t.a.l.k.e.r.", "S.T.A.L.K.E.R.: Shadow of Chernobyl"),
        ("strasse", "Straße der Ritter"),
        ("STRASSE ritter", "Straße der Ritter"),
        ("meiers civ", "Sid Meier’s Civilization® VI"),
        ("okami", "ŌKAMI HD"),
        ("сталкер", "Сталкер: Зона"),
        ("зон", "Сталкер: Зона"),
        ("嗜血", "嗜血印 Bloody Spell"),
        ("jerrys adv", "Tom & Jerry's <Big> Adventure"),
        ("big", "Tom & Jerry's <Big> Adventure"),
        ("FRAK", "𝕱𝖗𝖆𝖐𝖙𝖚𝖗 Tales"),
    ],
)
def test_every_query_word_finds_the_start_of_a_title_word_whatever_the_case_accents_or_punctuation(
    db, query, title
):
    store(TITLES)

    assert titles(query) == [title]


@pytest.mark.parametrize("query", ["alf", "life 3", "okamix", "gate baldurs 4", "ritterx", "ster"])
def test_a_word_inside_a_title_word_or_a_word_the_title_lacks_finds_nothing(db, query):
    store(TITLES)

    assert titles(query) == []


def test_titles_that_start_with_the_query_come_first_then_shorter_titles_then_older_games(db):
    store(
        {
            1: "The Portal Story",
            2: "Portal 2",
            3: "Portal",
            4: "Portal: Deluxe Collection",
            5: "Portals of Ash",
            6: "Ash Portal",
            7: "Port Royale",
            8: "Ash Portal",
        }
    )

    assert titles("portal") == [
        "Portal",
        "Portal 2",
        "Portals of Ash",
        "Portal: Deluxe Collection",
        "Ash Portal",
        "Ash Portal",
        "The Portal Story",
    ]
    with Session() as session:
        ash = [g.steam_id for g in search_games(session, "ash portal")]
    assert ash == [6, 8, 5]  # the two titles that start so, the older game first; then the other
    assert titles("port", limit=3) == ["Portal", "Portal 2", "Port Royale"]


def test_the_limit_is_kept_and_the_best_matches_are_the_ones_kept(db):
    store({steam_id: "Space Game" + " X" * (steam_id % 7) for steam_id in range(1, 201)})
    store({500: "Game of Space"})

    found = titles("space", limit=5)

    assert found == ["Space Game"] * 5
    assert titles("game of", limit=1) == ["Game of Space"]
    assert len(titles("game", limit=1000)) == 201
    with Session() as session, pytest.raises(ValueError, match="limit"):
        search_games(session, "space", limit=0)


HOSTILE = [
    "",
    "   ",
    '"',
    '""',
    "*",
    "**",
    "'",
    "-",
    "--",
    "^",
    ":",
    "&",
    "|",
    "!",
    "()",
    "(",
    ")",
    "NEAR",
    "NEAR(",
    "OR",
    "AND",
    "NOT",
    "\x00",
    "\ud800",
    "\udfff\ud800",
    "%",
    "_",
    "\\",
    "'; DROP TABLE games; --",
    "!@#$%^&*()_+{}|:<>?~`-=[]\\;',./",
    "\u200b\u202e\ufeff",
]


@pytest.mark.parametrize("query", HOSTILE)
def test_hostile_queries_never_fail_and_never_match_everything(db, query):
    store(TITLES)
    store({21: "Or Not", 22: "Near And"})

    found = titles(query)

    words = {"or": ["Or Not"], "not": ["Or Not"], "near": ["Near And"], "and": ["Near And"]}
    assert found == words.get(" ".join(search_words(query)), [])


@pytest.mark.parametrize(
    "query",
    [
        "portal OR half",
        "NEAR(half life)",
        'half* OR "',
        "half:life",
        "half -life",
        "(half | life) & !2",
        "half life " + "\x00" * 10,
    ],
)
def test_search_syntax_in_a_query_is_only_punctuation(db, query):
    store(TITLES)
    store({21: "Portal", 22: "Half Orchard Nearby Life"})

    found = set(titles(query))

    # Every word must start a word of the title: OR and NEAR are words like any other.
    expected = {
        "portal OR half": set(),
        "NEAR(half life)": {"Half Orchard Nearby Life"},
        'half* OR "': {"Half Orchard Nearby Life"},
        "half:life": {"Half-Life 2", "Half Orchard Nearby Life"},
        "half -life": {"Half-Life 2", "Half Orchard Nearby Life"},
        "(half | life) & !2": {"Half-Life 2"},
        "half life " + "\x00" * 10: {"Half-Life 2", "Half Orchard Nearby Life"},
    }
    assert found == expected[query]


def test_a_query_of_five_thousand_characters_finds_only_what_it_asks_for(db):
    store(TITLES)

    assert titles("half " * 1000) == ["Half-Life 2"]
    assert titles("h" * 5000) == []
    assert titles("ha" + "-" * 4998) == ["Half-Life 2"]
    assert titles(" ".join(f"w{n}" for n in range(1000))) == []


def test_a_query_of_more_distinct_words_than_the_limit_finds_nothing(db):
    many = " ".join(f"word{n}" for n in range(MAX_QUERY_WORDS + 1))
    store({1: many, 2: many.rsplit(" ", 1)[0]})

    assert titles(many.rsplit(" ", 1)[0]) == [many.rsplit(" ", 1)[0], many]
    assert titles(many) == []


def test_a_scrape_that_renames_a_game_moves_it_in_the_index_and_an_unchanged_one_stays(db):
    store({1: "Dark Frontier", 2: "Iron Harbor", 3: "Old Name"})
    store({1: "Bright Frontier", 2: "Iron Harbor"}, at(6))
    upsert([listing(3, 999, title="New Name")], at(6))  # renamed and repriced at once
    store({1: "Bright Frontier", 2: "Iron Harbor"}, at(12))

    assert titles("old") == []
    assert titles("new name") == ["New Name"]
    assert titles("dark") == []
    assert titles("bright frontier") == ["Bright Frontier"]
    assert titles("frontier") == ["Bright Frontier"]
    assert titles("iron") == ["Iron Harbor"]


def test_a_title_over_the_column_length_is_found_by_what_is_stored(db):
    title = "Epic " + "Saga " * 120 + "Finale"  # 611 characters; games.title keeps 500
    store({1: title})

    assert titles("epic saga") == [title[:500]]
    assert titles("finale") == []


def test_games_added_or_removed_outside_the_upsert_are_found_or_gone(db):
    with Session.begin() as session:
        session.add(
            Game(
                kind="app",
                steam_id=77,
                title="Crème Brûlée Simulator",
                currency="USD",
                first_seen=T0,
                last_seen=T0,
            )
        )
    assert titles("creme brulee") == ["Crème Brûlée Simulator"]
    with Session.begin() as session:
        session.execute(delete(Game))
    assert titles("creme") == []


def test_sqlite_search_index_stays_consistent_through_inserts_renames_and_deletes(sqlite_db):
    store(TITLES)
    store({**TITLES, 1: "Half-Life 3", 2: "Pokemon"}, at(6))
    with Session.begin() as session:
        session.execute(delete(Game).where(Game.steam_id.in_([3, 4])))
        rows = session.execute(text("SELECT count(*) FROM games_search")).scalar_one()
        session.execute(text("INSERT INTO games_search(games_search) VALUES ('integrity-check')"))

    assert rows == len(TITLES) - 2
    assert titles("half life") == ["Half-Life 3"]
    assert titles("baldurs") == []
