"""A simulated Steam store over real HTTP on 127.0.0.1, for tests, benchmarks and the demo.

Endpoints:
  GET  /search/results/?start=S&count=C&infinite=1&cc=us&l=english
       -> {"success": 1, "results_html": "<a class=search_result_row ...>", "total_count": N,
           "start": S}  (without infinite=1: a plain HTML page with the same rows)
  GET  /api/appdetails?appids=ID,ID&filters=price_overview&cc=us&l=english
       -> {"ID": {"success": true, "data": {"price_overview": {...}}}, ...} (storesim.appdetails)
  GET  /id/<name>/?xml=1, /profiles/<SteamID64>/?xml=1   Steam community profile pages, and
  GET  /IWishlistService/GetWishlist/v1/?steamid=ID      the Web API's wishlist (storesim.steam)
  GET  /_sim/stats    -> request counts: total, by_start, by_status, user_agents, times,
                         last_headers, last_query (search pages); appdetails: requests, ids,
                         by_id, per_second, times; steam: profile, wishlist, times; plus the
                         current state
  POST /_sim/control  -> change the store; JSON object, every key optional, applied in this order:
       {"reset": true}              the store as started: epoch 1, no sale, no faults, no stats
       {"reset_stats": true}        zero the counts only
       {"games": 5000, "seed": 7}   another catalogue
       {"epoch": 2}                 re-roll every discount (base prices and kinds stay)
       {"sale": {"every": 3, "pct": 50, "offset": 0}}  i % 3 == 0 at 50% off; null ends it
       {"sale": {"appids": [1005, 1042], "pct": 50, "at": 1764547200.5}}  those apps at 50% off
                                    from Unix time "at" (now when left out); until then the
                                    current sale stays; search pages and appdetails agree
       {"layout": "2023"}           "2015" or "2023" row markup
       {"clear_faults": true}       drop every fault
       {"fault_seed": 1}            restart the RNG of probability faults
       {"faults": [{"kind": "429", "times": 2, "retry_after": 1}, ...]}  appended, first match wins
       {"profiles": [{"steamid": "76561198000000010", "name": "ann_w", "apps": 40}, ...]}
                                    Steam accounts and their wishlists (storesim.steam)
  A fault: kind = an HTTP status 400-599 | slow | truncated | cut | garbled | json_error | empty
  | down | null; endpoint ("search", "appdetails", "profile" or "wishlist"; every one when
  left out); times (default 1;
  -1 or null: forever); start (only that page); probability (seeded);
  retry_after (header value as given) or retry_after_date (seconds from now, sent as HTTP-date);
  delay (seconds, for slow). "truncated" cuts results_html inside valid JSON, "cut" closes the
  socket halfway through the body, "down" resets the connection without answering.

Game i is game_truth(i, seed, epoch, sale, cc, l): about 78% paid apps (30% of them discounted
in any epoch), 7% subs (data-ds-packageid, 1-4 appids), 5% bundles (price not original x pct),
6% free (a third carry the real trap: a paid data-price-final under "Free to Play"), 4% with no
price (half with data-price-final="0"), one title in eight with & < > quotes or non-ASCII, and
every eleventh title split by a run of whitespace. Prices follow cc: us $, gb £, euro countries
19,99€, pl zł, cn ¥, ru pуб. (Latin p); other countries get USD. l=russian writes Бесплатно.
Pages hold at most 100 rows (count defaults to 50), like the real store.
"""

from __future__ import annotations

import threading
import time
from typing import Any

from storesim.data import GameTruth, Sale, game_truth
from storesim.faults import FaultBook, Stats, most_in_window, parse_fault
from storesim.html import LAYOUTS
from storesim.html import prewarm as warm_frames
from storesim.sales import describe_sale, parse_sale, sale_start, whole
from storesim.serve import SimHandler, SimServer
from storesim.steam import ProfileBook
from storesim.steam import parse_profile as parse_steam_profile

_CONTROL_KEYS = set(
    "reset reset_stats games seed epoch sale layout clear_faults fault_seed faults profiles".split()
)


class SimStore:
    """A running simulated store: .url, .stop(), .control(), .set_sale(), .set_faults(), stats."""

    def __init__(
        self,
        games: int = 1000,
        layout: str = "2015",
        seed: int = 0,
        host: str = "127.0.0.1",
        port: int = 0,
    ) -> None:
        if layout not in LAYOUTS:
            raise ValueError(f"layout {layout!r}: must be one of {LAYOUTS}")
        self.games, self.seed, self.layout = games, seed, layout
        self.initial = (games, seed, layout)
        self.epoch = 1
        self.sale: Sale | None = None
        self.pending_sale: tuple[float, Sale | None] | None = None
        self.faults, self.stats_book = FaultBook(seed), Stats()
        self.profiles = ProfileBook()
        self._lock = threading.Lock()
        self.stopping = threading.Event()
        self._server = SimServer((host, port), SimHandler)
        self._server.sim = self
        self.host, self.port = self._server.server_address[:2]
        self._thread = threading.Thread(
            target=self._server.serve_forever,
            name="store-sim",
            kwargs={"poll_interval": 0.1},
            daemon=True,
        )
        self._thread.start()

    @property
    def url(self) -> str:
        """The base URL, e.g. http://127.0.0.1:8123 (append /search/results/)."""
        return f"http://{self.host!s}:{self.port}"

    def stop(self) -> None:
        """Stop serving and close every open connection."""
        self.stopping.set()
        self._server.shutdown()
        self._server.close_all()
        self._server.server_close()
        self._thread.join(timeout=5)

    def prewarm(self) -> None:
        """Build every game's row fields now, so the first scrape is as fast as the next ones."""
        games, seed, *_ = self.catalogue_key()
        warm_frames(games, seed, self.stopping.is_set)

    def __enter__(self) -> SimStore:
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def control(self, spec: Any) -> dict[str, Any]:
        """Apply a control object (see the module docstring); return the new state."""
        if not isinstance(spec, dict) or set(spec) - _CONTROL_KEYS:
            raise ValueError(f"control must be an object with keys from {sorted(_CONTROL_KEYS)}")
        faults = [parse_fault(f) for f in spec.get("faults") or []]
        profiles = [parse_steam_profile(p) for p in spec.get("profiles") or []]
        sale = parse_sale(spec["sale"]) if "sale" in spec else None
        sale_at = sale_start(spec["sale"]) if "sale" in spec else None
        if spec.get("layout", self.layout) not in LAYOUTS:
            raise ValueError(f"layout {spec['layout']!r}: must be one of {LAYOUTS}")
        numbers = {
            k: whole(spec, k, 0, 10**7 if k == "games" else 2**31)
            for k in ("games", "seed", "epoch", "fault_seed")
            if k in spec
        }
        with self._lock:
            if spec.get("reset"):
                self.games, self.seed, self.layout = self.initial
                self.epoch, self.sale, self.pending_sale = 1, None, None
                self.faults.add([], replace_all=True)
                self.stats_book.reset()
                self.profiles.reset()
            if spec.get("reset_stats"):
                self.stats_book.reset()
            self.games = numbers.get("games", self.games)
            self.seed = numbers.get("seed", self.seed)
            self.epoch = numbers.get("epoch", self.epoch)
            self.layout = spec.get("layout", self.layout)
            if "sale" in spec and (sale_at is None or sale_at <= time.time()):
                self.sale, self.pending_sale = sale, None
            elif "sale" in spec and sale_at is not None:
                self.pending_sale = (sale_at, sale)
            if spec.get("clear_faults"):
                self.faults.add([], replace_all=True)
            if "fault_seed" in numbers:
                self.faults.reseed(numbers["fault_seed"])
            self.faults.add(faults)
            self.profiles.add(profiles)
        return self.state()

    def set_sale(self, every: int | None = None, pct: int = 50, offset: int = 0) -> None:
        """Put games with index % every == offset at pct off; every=None ends the sale."""
        sale = None if every is None else {"every": every, "pct": pct, "offset": offset}
        self.control({"sale": sale})

    def sale_on_apps(self, appids: list[int], pct: int = 50, at: float | None = None) -> None:
        """Put these apps (and only them) at pct off from Unix time `at` (now when None)."""
        spec: dict[str, Any] = {"appids": list(appids), "pct": pct}
        if at is not None:
            spec["at"] = at
        self.control({"sale": spec})

    def set_epoch(self, epoch: int) -> None:
        """Re-roll every discount deterministically for this epoch."""
        self.control({"epoch": epoch})

    def set_layout(self, layout: str) -> None:
        """Serve rows in the "2015" or "2023" markup."""
        self.control({"layout": layout})

    def set_faults(self, *faults: dict[str, Any], replace_all: bool = True) -> None:
        """Install faults given as dicts (see the module docstring), replacing the list."""
        self.control({"clear_faults": replace_all, "faults": list(faults)})

    def state(self) -> dict[str, Any]:
        """Return the catalogue settings and the active faults."""
        with self._lock:
            self._start_due_sale()
            sale = describe_sale(self.sale)
            pending = self.pending_sale
            upcoming = None if pending is None else [pending[0], describe_sale(pending[1])]
            return {
                "url": self.url,
                "games": self.games,
                "seed": self.seed,
                "epoch": self.epoch,
                "sale": sale,
                "pending_sale": upcoming,
                "layout": self.layout,
                "faults": self.faults.describe(),
            }

    def stats(self) -> dict[str, Any]:
        """Return the request counts (see Stats.snapshot)."""
        return self.stats_book.snapshot()

    @property
    def request_count(self) -> int:
        """How many search requests arrived since the start or the last stats reset."""
        return self.stats_book.total

    def appdetails_most_in_window(self, window: float) -> int:
        """Return the most appdetails requests that arrived within any `window` seconds."""
        return most_in_window(self.stats()["appdetails"]["times"], window)

    def catalogue_key(self) -> tuple[int, int, int, Sale | None, str]:
        """Return (games, seed, epoch, sale, layout) as one consistent snapshot."""
        with self._lock:
            self._start_due_sale()
            return self.games, self.seed, self.epoch, self.sale, self.layout

    def _start_due_sale(self) -> None:
        """Make a scheduled sale current once its moment came (the caller holds the lock)."""
        if self.pending_sale is not None and self.pending_sale[0] <= time.time():
            self.sale, self.pending_sale = self.pending_sale[1], None

    def truth(self, index: int, cc: str = "us", language: str = "english") -> GameTruth:
        """Return what the store currently serves for game index."""
        games, seed, epoch, sale, _ = self.catalogue_key()
        return game_truth(index, seed=seed, epoch=epoch, sale=sale, cc=cc, language=language)


def start_store(
    games: int = 1000,
    layout: str = "2015",
    seed: int = 0,
    host: str = "127.0.0.1",
    port: int = 0,
) -> SimStore:
    """Start a simulated store on host:port (0 picks a free port); return it running."""
    return SimStore(games=games, layout=layout, seed=seed, host=host, port=port)
