"""`scout store-sim`: serve the simulated Steam store until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import signal
import threading

from scheduler.cli.output import CLIError
from storesim.data import TITLE_STYLES


def _bounded(low: int, high: int) -> type[int]:
    def parse(raw: str) -> int:
        try:
            value = int(raw)
        except ValueError:
            raise argparse.ArgumentTypeError(f"{raw!r} is not a whole number") from None
        if not low <= value <= high:
            raise argparse.ArgumentTypeError(f"{value} is not between {low} and {high}")
        return value

    return parse  # type: ignore[return-value]


def register(subparsers: argparse._SubParsersAction) -> None:
    """Add the store-sim command to the scout parser."""
    parser = subparsers.add_parser(
        "store-sim",
        help="serve a simulated Steam store for tests, benchmarks and demos",
        description="Serve a deterministic simulated Steam store (search endpoint, api/appdetails, "
        "POST /_sim/control, GET /_sim/stats) until interrupted.",
    )
    parser.add_argument("--games", type=_bounded(0, 10_000_000), default=10_000)
    parser.add_argument("--port", type=_bounded(0, 65535), default=8765, help="0 picks a port")
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (default 127.0.0.1)")
    parser.add_argument("--layout", choices=["2015", "2023"], default="2015")
    parser.add_argument("--seed", type=_bounded(0, 2**31), default=0)
    parser.add_argument(
        "--titles",
        choices=TITLE_STYLES,
        default="plausible",
        help="plausible shop titles (default) or hostile ones (markup, quotes, non-ASCII)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Start the sim, print its URL, and serve until SIGINT or SIGTERM."""
    from storesim.data import use_titles
    from storesim.store import start_store

    try:
        sim = start_store(
            games=args.games,
            layout=args.layout,
            seed=args.seed,
            host=args.host,
            port=args.port,
        )
    except OSError as exc:
        raise CLIError(f"cannot listen on {args.host}:{args.port}: {exc.strerror or exc}") from None
    previous_titles = use_titles(args.titles)
    done = threading.Event()
    previous = {
        sig: signal.signal(sig, lambda *_: done.set()) for sig in (signal.SIGINT, signal.SIGTERM)
    }
    sim.prewarm()
    print(
        f"store-sim serving {args.games} games ({args.layout} layout, {args.titles} titles)"
        f" at {sim.url}",
        flush=True,
    )
    try:
        while not done.wait(0.5):
            pass
    finally:
        sim.stop()
        use_titles(previous_titles)
        for sig, handler in previous.items():
            signal.signal(sig, handler)
    return 0
