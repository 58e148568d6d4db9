"""A local SMTP catcher for the demo: every message it accepts becomes one .eml file in a folder.

    python -m storesim.mailcatcher --port 8025 --dir instance/mail

Demo apparatus, like the simulated store: it accepts any sender and recipient, on 127.0.0.1
only, and serves until SIGINT or SIGTERM.
"""

from __future__ import annotations

import argparse
import itertools
import os
import re
import signal
import sys
import threading
import time
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller

_UNSAFE = re.compile(r"[^A-Za-z0-9@._-]+")


class FolderHandler:
    """aiosmtpd handler: writes each message to folder/<time>-<n>-<first recipient>.eml."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self._numbers = itertools.count(1)
        self._lock = threading.Lock()

    def file_name(self, recipients: list[str]) -> str:
        """Return a new file name; the recipient is outside text, so only safe characters stay."""
        with self._lock:
            number = next(self._numbers)
        who = _UNSAFE.sub("_", recipients[0] if recipients else "nobody")[:60]
        return f"{time.strftime('%Y%m%d-%H%M%S')}-{number:04d}-{who}.eml"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        """Save the message (atomically: a reader never sees half a file); return 250."""
        path = self.folder / self.file_name(list(envelope.rcpt_tos))
        partial = path.with_suffix(".part")
        partial.write_bytes(envelope.original_content or envelope.content)
        os.replace(partial, path)
        print(f"mail: saved {path}", flush=True)
        return "250 OK saved"


def main(argv: list[str] | None = None) -> int:
    """Serve on 127.0.0.1:PORT until SIGINT or SIGTERM; return the exit status."""
    parser = argparse.ArgumentParser(description="Save every SMTP message as an .eml file.")
    parser.add_argument("--port", type=int, default=8025)
    parser.add_argument("--dir", type=Path, default=Path("instance/mail"))
    args = parser.parse_args(argv)
    args.dir.mkdir(parents=True, exist_ok=True)
    controller = Controller(FolderHandler(args.dir), hostname="127.0.0.1", port=args.port)
    try:
        controller.start()
    except (OSError, RuntimeError) as exc:
        print(f"mail: cannot listen on 127.0.0.1:{args.port}: {exc}", file=sys.stderr)
        return 1
    done = threading.Event()
    for sig in (signal.SIGINT, signal.SIGTERM):
        signal.signal(sig, lambda *_: done.set())
    print(f"mail: SMTP on 127.0.0.1:{args.port}, saving every message in {args.dir}/", flush=True)
    while not done.wait(0.5):
        pass
    controller.stop()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
