from models.base import Session
from scheduler.catalogue.search import search_games
from tests.support.listings import listing, upsert
from tests.support.catalogue import T0

def test_smoke(db):
    titles = ["Half-Life 2", "Pokémon Café", "Baldur's Gate 3", "Portal", "Portal 2", "The Portal Story", "S.T.A.L.K.E.R.: Shadow of Chernobyl", "Straße"]
    upsert([listing(i + 1, title=t) for i, t in enumerate(titles)], T0)
    with Session() as s:
        for q in ["half life", "halflife", "pokemon", "POKÉ", "baldurs", "baldur's", "portal", "stalker", "strasse", '"', "*", "OR", "NEAR(", "\x00", "\ud800", ""]:
            print(repr(q), [g.title for g in search_games(s, q)])
