"""Email building speed: the email package's message objects and generator against the fast path.

Run: .venv/bin/python bench/mime.py [--emails 2000] [--runs 7]. Builds the same emails both ways
in one process (bench/alerts.py's typical email: ASCII, 7bit; and a non-ASCII title as 8bit and
as quoted-printable), checks the bytes are equal, and prints each way's median over --runs runs
in microseconds of this process's CPU time per email, so other load on the machine matters less.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from scheduler.alerts.mime import fast_bytes, fast_path_fits, library_bytes  # noqa: E402
from scheduler.alerts.render import Digest, DigestItem, RenderedEmail, render_digest  # noqa: E402

SENDER = "SteamScout <alerts@bench.test>"  # bench/alerts.py's settings
CASES = {  # name: (titles of the digest's drops, eight_bit)
    "bench email (ASCII, 7bit)": (["Game 12 & <Co>"], True),
    "non-ASCII title, 8bit": (["Ünïcødé 魔法少女 Édition"], True),
    "non-ASCII title, quoted-printable": (["Ünïcødé 魔法少女 Édition"], False),
}
Build = Callable[..., bytes]


def email_for(titles: list[str], n: int) -> RenderedEmail:
    """Render subscriber n's digest of drops with these titles, as bench/alerts.py's worker does."""
    drops = [
        DigestItem(n * 10 + k, title, 499, 1999, "USD", 1999, f"https://store.example/app/{k}/")
        for k, title in enumerate(titles)
    ]
    digest = Digest(n, f"user{n}@example.com", f"tok{n:08d}x" * 2, drops)
    return render_digest(digest, public_url="http://bench.test", domain="bench.test")


def per_email_us(build: Build, emails: list[RenderedEmail], eight_bit: bool) -> float:
    """Return the CPU microseconds build takes per email, over all of emails."""
    began = time.process_time()
    for email in emails:
        build(email, recipient=email.recipient, sender=SENDER, eight_bit=eight_bit)
    return (time.process_time() - began) / len(emails) * 1e6


def check_equal(emails: list[RenderedEmail], eight_bit: bool) -> None:
    """Raise unless the fast path is taken and writes the library's bytes for every email."""
    for n, email in enumerate(emails):
        kwargs = dict(recipient=email.recipient, sender=SENDER, eight_bit=eight_bit)
        same = dict(now=1_700_000_000.0, token=f"{n:064x}")
        if not fast_path_fits(email, recipient=email.recipient, sender=SENDER):
            raise AssertionError(f"the fast path does not take {email.subject!r}")
        if fast_bytes(email, **kwargs, **same) != library_bytes(email, **kwargs, **same):
            raise AssertionError(f"the fast path wrote other bytes for {email.subject!r}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--emails", type=int, default=2000)
    parser.add_argument("--runs", type=int, default=7)
    args = parser.parse_args()
    for name, (titles, eight_bit) in CASES.items():
        emails = [email_for(titles, n) for n in range(args.emails)]
        check_equal(emails, eight_bit)
        timings: dict[str, list[float]] = {"library": [], "fast": []}
        for _ in range(args.runs):  # interleaved, so a burst of load hits both ways
            timings["library"].append(per_email_us(library_bytes, emails, eight_bit))
            timings["fast"].append(per_email_us(fast_bytes, emails, eight_bit))
        library, fast = (statistics.median(timings[way]) for way in ("library", "fast"))
        print(
            f"{name:36} library {library:6.1f} us/email   fast {fast:6.1f} us/email   "
            f"{library / fast:4.1f}x  (median of {args.runs} runs of {args.emails} emails)"
        )


if __name__ == "__main__":
    main()
