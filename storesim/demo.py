"""The demo's director (a process of `scripts/run-local`): it tells the story with scout commands.

Scrape the simulated store, subscribe a few people and watch some games, put those games on
sale through the store's control API, scrape and check again, then say where the alert emails
landed and how to open one. After that it reports each new email until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import requests

# Games the demo subscribers watch: all have index % 10 == 6, so SALE covers them, and none is
# discounted before the sale, so every email the demo shows comes from the sale.
DEMO_WATCHES = (
    ("mia@example.com", "App_1016", ["--discount", "40"]),
    ("leo@example.com", "App_1136", ["--below", "30.00"]),
    ("zoe@example.com", "App_1166", ["--discount", "50"]),
    ("zoe@example.com", "App_1016", ["--below", "6.00"]),
)
SALE = {"every": 10, "pct": 50, "offset": 6}


def scout(*args: str, timeout: float = 300) -> bool:
    """Run one scout command as a user would, echoing it; return True when it succeeded."""
    print(f"demo: $ scout {' '.join(args)}", flush=True)
    exe = shutil.which("scout", path=str(Path(sys.executable).parent)) or "scout"
    try:
        return subprocess.run([exe, *args], timeout=timeout).returncode == 0
    except subprocess.TimeoutExpired:
        print(f"demo: `scout {args[0]}` took more than {timeout:.0f} s; giving up", flush=True)
        return False


def put_on_sale(store_url: str) -> bool:
    """Ask the simulated store to discount every tenth game; return True when it agreed."""
    print(f"demo: the store puts every tenth game at {SALE['pct']}% off (POST /_sim/control)")
    try:
        answer = requests.post(f"{store_url}/_sim/control", json={"sale": SALE}, timeout=5)
    except requests.RequestException as exc:
        print(f"demo: the store did not answer: {type(exc).__name__}", flush=True)
        return False
    return answer.ok


def tell_story(store_url: str) -> bool:
    """Run the demo's steps in order; return False at the first that failed."""
    # The worker starts beside this process: on a busy machine it may take a while to take it.
    if not scout("scrape", "--wait", "--timeout", "240"):
        return False
    for email in dict.fromkeys(address for address, _, _ in DEMO_WATCHES):
        if not scout("subscribe", email):
            return False
    for email, item, rule in DEMO_WATCHES:
        if not scout("watch", "add", email, item, *rule):
            return False
    return (
        scout("check", "--wait")
        and put_on_sale(store_url)
        and scout("scrape", "--wait")
        and scout("games", "--search", "portal", "--limit", "5")
        and scout("check", "--wait")
    )


def announce(mails: list[Path], folder: Path) -> None:
    """Print where the emails are and how to open one."""
    newest = mails[-1]
    print(f"demo: {len(mails)} alert email(s) in {folder}/ ; the newest: {newest.name}")
    print(f"demo:   open it in a mail client:  xdg-open {newest}   (macOS: open {newest})")
    print(f"demo:   or read it here:           less {newest}")
    print("demo: try the README's commands in another terminal (source .venv/bin/activate);")
    print("demo: Ctrl-C here stops everything.", flush=True)


def main(argv: list[str] | None = None) -> int:
    """Tell the story, then report new emails until SIGINT or SIGTERM; return the exit status."""
    parser = argparse.ArgumentParser(description="Direct the SteamScout demo.")
    parser.add_argument("--store", required=True, help="the simulated store's base URL")
    parser.add_argument("--mail-dir", type=Path, required=True)
    args = parser.parse_args(argv)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    seen = set(args.mail_dir.glob("*.eml"))
    if not tell_story(args.store.rstrip("/")):
        print("demo: a step failed (see above); the processes keep running", flush=True)
    while not done.is_set():
        mails = sorted(set(args.mail_dir.glob("*.eml")) - seen)
        if mails:
            seen.update(mails)
            announce(mails, args.mail_dir)
        done.wait(1.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
