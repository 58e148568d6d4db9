"""The simulated store's catalogue: deterministic games and the truth a parser must recover.

Game i depends only on (i, seed, epoch, sale, cc, language). The base price and kind depend on
(i, seed); the discount on (i, seed, epoch) unless a Sale covers the game. Prices never need a
thousands separator, so every visible price is one number in the currency's own format.
Titles come in two styles (use_titles): "hostile" (the default, for the tests: one title in
eight from SPECIAL_TITLES, with markup, entities, quotes and non-ASCII) or "plausible" (the
demo's: `scout store-sim` serves these unless given --titles hostile).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import lru_cache

_MASK = (1 << 64) - 1
_PCTS = (10, 15, 20, 25, 33, 40, 50, 60, 67, 75, 80, 85, 90)
_ADJ = "Dark Lost Galactic Tiny Eternal Iron Hollow Crimson Silent Wild Neon Ancient Golden".split()
_NOUN = "Knight Frontier Odyssey Farm Protocol Dungeon Kingdom Racer Signal Harbor Garden".split()
_SUFFIX = ("", "", "", " II", " Remastered", ": Deluxe Edition", " - Soundtrack", " 3")
SPECIAL_TITLES = (
    "Tom & Jerry's <Big> Adventure",
    'The "Quoted" Quest',
    "Ōkami HD",
    "嗜血印 Bloody Spell",
    "Café Société: Crème Brûlée",
    "Сталкер: Зона",
    "Dungeons &amp; Dragons Literal",
    "Sid Meier’s Civilization® VI",
    "<script>alert(1)</script> Simulator",
    "50% Off & Other Lies",
)
# The demo's catalogue (`scout store-sim --titles plausible`): titles a shop could sell.
_PLAUSIBLE_FIRST = (
    "Portal Stellar Shadow Harvest Iron Crystal Storm Pixel Rogue Ember Frost Arcane Lunar "
    "Quantum Tidal Copper Velvet Broken Hidden Northern Sunken Clockwork Paper Midnight"
).split()
_PLAUSIBLE_SECOND = (
    "Tactics Runners Chronicles Colony Drift Legends Outpost Valley Foundry Siege Voyage Arena "
    "Heist Trails Empire Garden Circuit Station Depths Skies Wardens Academy Express Keeper"
).split()
_PLAUSIBLE_SUFFIX = ("", "", "", "", " 2", " II", " Remastered", ": Director's Cut", " Online")
TITLE_STYLES = ("hostile", "plausible")
# One style per process: the store is deterministic in (index, seed), and the style is chosen
# once, by whoever starts the store (tests keep the hostile default, the demo's CLI does not).
_style = {"titles": "hostile"}
FREE_WORDS = {"english": ("Free to Play", "Free To Play", "Free"), "russian": ("Бесплатно",)}


@dataclass(frozen=True, slots=True)
class Sale:
    """Games with index % every == offset (or in items, when given) sell at pct off.

    pct 0 removes their discount. items is a frozenset of game indices: a sale on chosen games.
    """

    every: int
    pct: int
    offset: int = 0
    items: frozenset[int] | None = None

    def covers(self, index: int) -> bool:
        """Return whether game index is on this sale."""
        if self.items is not None:
            return index in self.items
        return self.every > 0 and index % self.every == self.offset % self.every


@dataclass(frozen=True, slots=True)
class Currency:
    code: str
    tiers: tuple[int, ...]
    render: Callable[[int], str]


@dataclass(frozen=True, slots=True)
class GameTruth:
    """What a correct parser returns for one row (mirrors scheduler.catalogue.parse.Listing)."""

    index: int
    kind: str  # "app" | "sub" | "bundle"
    steam_id: int
    appids: tuple[int, ...]
    itemkey: str
    title: str
    final_cents: int | None
    original_cents: int | None
    discount_pct: int
    is_free: bool
    price_text: str
    currency: str
    price_attr: int | None  # data-price-final as served: a paid price on the free-game trap
    original_text: str = ""


def _two(cents: int, sep: str) -> str:
    return f"{cents // 100}{sep}{cents % 100:02d}"


def _rub(cents: int) -> str:
    # Steam writes "pуб." with a Latin p; whole roubles carry no decimals.
    whole = f"{cents // 100}" if cents % 100 == 0 else _two(cents, ",")
    return f"{whole} p\u0443\u0431."


_USD = Currency(
    "USD",
    (99, 199, 499, 999, 1499, 1999, 2499, 2999, 3999, 4999, 5999, 6999),
    lambda c: f"${_two(c, '.')}",
)
_CURRENCIES = {
    "us": _USD,
    "gb": Currency(
        "GBP",
        (79, 169, 419, 849, 1279, 1699, 2099, 2499, 3499, 4299, 4999, 5999),
        lambda c: f"£{_two(c, '.')}",
    ),
    "eu": Currency(
        "EUR",
        (99, 199, 499, 999, 1499, 1999, 2499, 2999, 3999, 4999, 5999, 6999),
        lambda c: f"{_two(c, ',')}€",
    ),
    "pl": Currency(
        "PLN",
        (399, 799, 1999, 3699, 5499, 7199, 8999, 10999, 14999, 17499, 21999, 24999),
        lambda c: f"{_two(c, ',')}zł",
    ),
    "cn": Currency(
        "CNY",
        (600, 1100, 3200, 5800, 7000, 9000, 11800, 14800, 19800, 24800, 29800, 37900),
        lambda c: f"¥ {_two(c, '.')}",
    ),
    "ru": Currency(
        "RUB",
        (5900, 9900, 14900, 19900, 24900, 29900, 37900, 44900, 54900, 65967, 74900, 89900),
        _rub,
    ),
}
_EURO_COUNTRIES = set("de fr es it nl be at fi ie pt gr sk si ee lv lt lu mt cy".split())


@lru_cache(maxsize=256)
def currency_for(cc: str) -> Currency:
    """Return the currency the sim uses for a country code (USD for countries it does not know)."""
    cc = cc.lower()
    return _CURRENCIES["eu"] if cc in _EURO_COUNTRIES else _CURRENCIES.get(cc, _USD)


def mix(*parts: int) -> int:
    """Return a 64-bit hash of the integers, the same in every process (splitmix64 rounds)."""
    h = 0x9E3779B97F4A7C15
    for part in parts:
        h ^= part & _MASK
        h = (h * 0xBF58476D1CE4E5B9) & _MASK
        h ^= h >> 31
        h = (h * 0x94D049BB133111EB) & _MASK
        h ^= h >> 29
    return h


def _kind(index: int, seed: int) -> str:
    roll = mix(seed, index, 1) % 100
    if roll < 5:
        return "bundle"
    if roll < 12:
        return "sub"
    if roll < 18:
        return "free"
    if roll < 22:
        return "none"
    return "app"


def use_titles(style: str) -> str:
    """Serve "hostile" titles (one in eight from SPECIAL_TITLES) or "plausible" ones from now on.

    Returns the style used until now; raises ValueError for another style.
    """
    if style not in TITLE_STYLES:
        raise ValueError(f"titles {style!r}: must be one of {TITLE_STYLES}")
    previous, _style["titles"] = _style["titles"], style
    static_game.cache_clear()
    return previous


def _plausible_title(h: int) -> str:
    first = _PLAUSIBLE_FIRST[(h >> 8) % len(_PLAUSIBLE_FIRST)]
    second = _PLAUSIBLE_SECOND[(h >> 16) % len(_PLAUSIBLE_SECOND)]
    return f"{first} {second}{_PLAUSIBLE_SUFFIX[(h >> 24) % len(_PLAUSIBLE_SUFFIX)]}"


def _title(index: int, seed: int, kind: str) -> str:
    h = mix(seed, index, 5)
    if _style["titles"] == "plausible":
        base = _plausible_title(h)
    elif h % 8 == 0:
        base = SPECIAL_TITLES[(h >> 8) % len(SPECIAL_TITLES)]
    else:
        base = f"{_ADJ[(h >> 8) % len(_ADJ)]} {_NOUN[(h >> 16) % len(_NOUN)]}"
        base += _SUFFIX[(h >> 24) % len(_SUFFIX)]
    return {"sub": f"{base} Collection", "bundle": f"{base} Complete Bundle"}.get(kind, base)


def _ids(index: int, seed: int, kind: str) -> tuple[str, int, tuple[int, ...]]:
    if kind == "sub":
        size = 1 + mix(seed, index, 6) % 4
        return "sub", 200000 + index, tuple(900000 + index * 4 + k for k in range(size))
    if kind == "bundle":
        return "bundle", 30000 + index, ()
    return "app", 1000 + index, (1000 + index,)


def _discount(index: int, seed: int, epoch: int, sale: Sale | None) -> int:
    if sale is not None and sale.covers(index):
        return sale.pct
    if mix(seed, index, epoch, 3) % 100 < 30:
        return _PCTS[mix(seed, index, epoch, 4) % len(_PCTS)]
    return 0


@dataclass(frozen=True, slots=True)
class StaticGame:
    """The parts of a game that no epoch or sale changes."""

    kind: str  # "app" | "sub" | "bundle" | "free" | "none"
    row_kind: str
    steam_id: int
    appids: tuple[int, ...]
    itemkey: str
    title: str
    roll: int


@lru_cache(maxsize=1 << 18)
def static_game(index: int, seed: int) -> StaticGame:
    """Return the kind, ids and title of game index (cached: pages re-render on every epoch)."""
    kind = _kind(index, seed)
    row_kind, steam_id, appids = _ids(index, seed, kind)
    itemkey = f"{row_kind.capitalize()}_{steam_id}"
    title = _title(index, seed, kind)
    return StaticGame(kind, row_kind, steam_id, appids, itemkey, title, mix(seed, index, 2))


def _price(
    game: StaticGame, money: Currency, pct: int, language: str
) -> tuple[int | None, int | None, int, bool, str, int | None, str]:
    """Return (final, original, pct, is_free, text, data-price-final, original text)."""
    base = money.tiers[game.roll % len(money.tiers)]
    if game.kind == "free":
        words = FREE_WORDS.get(language, FREE_WORDS["english"])
        trap = (game.roll >> 12) % 3 == 0
        return 0, None, 0, True, words[(game.roll >> 20) % len(words)], base if trap else 0, ""
    if game.kind == "none":
        return None, None, 0, False, "", 0 if (game.roll >> 12) % 2 == 0 else None, ""
    final = (base * (100 - pct) + 50) // 100
    if game.row_kind == "bundle" and pct:
        # A bundle's price is the sum of its discounted items, not base x (1 - pct).
        final = max(1, final - (game.roll >> 28) % 50)
    if not pct:
        return final, None, 0, False, money.render(final), final, ""
    return final, base, pct, False, money.render(final), final, money.render(base)


def game_truth(
    index: int,
    *,
    seed: int = 0,
    epoch: int = 1,
    sale: Sale | None = None,
    cc: str = "us",
    language: str = "english",
) -> GameTruth:
    """Return the truth for game `index` of the simulated catalogue."""
    game = static_game(index, seed)
    money = currency_for(cc)
    pct = _discount(index, seed, epoch, sale) if game.kind not in ("free", "none") else 0
    final, original, pct, free, text, attr, original_text = _price(game, money, pct, language)
    return GameTruth(
        index, game.row_kind, game.steam_id, game.appids, game.itemkey, game.title,
        final, original, pct, free, text, money.code, attr, original_text,
    )  # fmt: skip
