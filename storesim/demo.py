"""The demo's director (a process of `scripts/run-local`): it tells the story with scout commands.

Scrape the simulated store, subscribe a few people and watch some games, put those games on
sale through the store's control API, scrape and check again, then say where the alert emails
landed and how to open one. Then it asks the web for a sign-in link for mia, as a person would
(the form on the home page), and prints the link from the email it caught, so a newcomer opens
her watchlist, a game's price chart and her digest in a browser. After that it reports each new
email until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import email
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from email.policy import default as default_policy
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
SIGN_IN_AS = "mia@example.com"
_CSRF = re.compile(r'name="csrf_token" value="([^"]+)"')
_LINK = re.compile(r"https?://\S+/sign-in/[A-Za-z0-9_.-]+")


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
    for address in dict.fromkeys(who for who, _, _ in DEMO_WATCHES):
        if not scout("subscribe", address):
            return False
    for address, item, rule in DEMO_WATCHES:
        if not scout("watch", "add", address, item, *rule):
            return False
    return (
        scout("check", "--wait")
        and put_on_sale(store_url)
        and scout("scrape", "--wait")
        and scout("games", "--search", "portal", "--limit", "5")
        and scout("check", "--wait")
    )


def ask_sign_in(web_url: str, address: str, deadline: float) -> bool:
    """Post the home page's sign-in form for address, as a browser would; True when accepted."""
    session = requests.Session()
    while time.monotonic() < deadline:
        try:
            page = session.get(f"{web_url}/", timeout=5)
            token = _CSRF.search(page.text)
            if token:
                form = {"email": address, "csrf_token": token.group(1)}
                if session.post(f"{web_url}/sign-in", data=form, timeout=10).ok:
                    return True
        except requests.RequestException:
            pass
        time.sleep(1)
    return False


def caught_link(folder: Path, before: set[Path], deadline: float) -> str | None:
    """Return the sign-in link of the first sign-in email caught after before, or None."""
    while time.monotonic() < deadline:
        for path in sorted(set(folder.glob("*.eml")) - before):
            message = email.message_from_bytes(path.read_bytes(), policy=default_policy)
            if message["Subject"] == "Sign in to SteamScout":
                body = message.get_body(("plain",))
                found = _LINK.search(body.get_content()) if body is not None else None
                if found:
                    return found.group(0)
        time.sleep(0.5)
    return None


def show_web(web_url: str, public_url: str, folder: Path) -> None:
    """Ask for a sign-in link for the demo's first subscriber and print it."""
    print(f"demo: asking the web for a sign-in link for {SIGN_IN_AS} (POST {web_url}/sign-in)")
    before, deadline = set(folder.glob("*.eml")), time.monotonic() + 60
    link = (
        caught_link(folder, before, deadline)
        if ask_sign_in(web_url, SIGN_IN_AS, deadline)
        else None
    )
    if link is None:
        print("demo: no sign-in email arrived within a minute; ask for one on the home page")
        return
    print(f"demo: the web front end is at {public_url}/ (search, game pages, your watchlist)")
    print(f"demo: sign in as {SIGN_IN_AS} (she watches Portal Circuit) by opening:")
    print(f"demo:   {link}")
    print(
        "demo:   it works once, for an hour; a new one comes from the form on the home page",
        flush=True,
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
    parser.add_argument("--web", help="the web process's address, to ask for a sign-in link")
    parser.add_argument("--public", help="the web's public address (PUBLIC_URL)")
    args = parser.parse_args(argv)
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    seen = set(args.mail_dir.glob("*.eml"))
    if not tell_story(args.store.rstrip("/")):
        print("demo: a step failed (see above); the processes keep running", flush=True)
    else:
        alerts = sorted(set(args.mail_dir.glob("*.eml")) - seen)
        if alerts:
            seen.update(alerts)
            announce(alerts, args.mail_dir)
        if args.web:
            show_web(args.web.rstrip("/"), (args.public or args.web).rstrip("/"), args.mail_dir)
            seen.update(args.mail_dir.glob("*.eml"))
    while not done.is_set():
        mails = sorted(set(args.mail_dir.glob("*.eml")) - seen)
        if mails:
            seen.update(mails)
            announce(mails, args.mail_dir)
        done.wait(1.0)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
