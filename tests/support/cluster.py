"""Scaling out for bench/scale.py and the tests: worker layouts, watchers, request rates."""

from __future__ import annotations

from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager

from sqlalchemy import create_engine
from sqlalchemy.orm import Session

from tests.support.processes import Proc, start_worker

# name -> [(node name, queues)]: every layout runs the same queues with the same routing.
LAYOUTS: dict[str, list[tuple[str, str]]] = {
    "one": [("all@%h", "celery,scrape,mail")],
    "split": [("scrape@%h", "scrape"), ("mail@%h", "mail,celery")],
}


@contextmanager
def workers(layout: str, env: Mapping[str, str], concurrency: int = 2) -> Iterator[list[Proc]]:
    """Run the layout's worker processes; stop them all (SIGTERM, soft shutdown) afterwards."""
    with ExitStack() as stack:
        procs = []
        for name, queues in LAYOUTS[layout]:
            proc = start_worker(env, queues=queues, name=name, concurrency=concurrency)
            stack.callback(proc.stop)
            procs.append(proc)
        yield procs


def add_watchers(
    database_url: str, count: int, items: Sequence[str], spread: bool = False, **rule: object
) -> None:
    """Subscribe count addresses, each watching every item (spread: one item each, in turn)."""
    from scheduler.alerts import watchlist

    engine = create_engine(database_url)
    try:
        with Session(engine) as session, session.begin():
            for number in range(count):
                email = f"watcher{number}@example.com"
                watchlist.subscribe(session, email)
                for item in [items[number % len(items)]] if spread else items:
                    watchlist.add_watch(session, email, item, **rule)  # type: ignore[arg-type]
    finally:
        engine.dispose()


def most_in_any_window(times: Sequence[float], window: float) -> int:
    """Return the largest number of request times that fall inside one window of that length."""
    ordered, most, first = sorted(times), 0, 0
    for last, moment in enumerate(ordered):
        while moment - ordered[first] >= window:
            first += 1
        most = max(most, last - first + 1)
    return most
