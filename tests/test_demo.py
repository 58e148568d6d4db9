"""`scripts/run-local` tells the story by itself, and Ctrl-C leaves nothing running."""

from __future__ import annotations

import email
import os
import re
import shlex
import signal
import socket
import subprocess
import threading
import time
import uuid
from email.policy import default as default_policy
from pathlib import Path

import pytest
import requests

from config import PROJECT_ROOT

pytestmark = pytest.mark.slow


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def processes_marked(mark: str) -> list[int]:
    """Return the pids of every process whose environment carries mark."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            if mark.encode() in (entry / "environ").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def demo_env(tmp: Path, mark: str) -> dict[str, str]:
    """The demo's environment: private ports, a Redis that run-local must start, files in tmp."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("STORE_", "MAIL_"))}
    env.pop("PUBLIC_URL", None)
    env.update(
        DEMO_DIR=str(tmp),
        DATABASE_URL=f"sqlite:///{tmp / 'scout.db'}",
        REDIS_URL=f"redis://127.0.0.1:{free_port()}/0",  # nothing listens: run-local starts it
        PORT=str(free_port()),
        DEMO_STORE_PORT=str(free_port()),
        DEMO_MAIL_PORT=str(free_port()),
        SCOUT_DEMO_TEST_MARK=mark,
        PYTHONUNBUFFERED="1",
    )
    return env


class Output:
    """Collects a process's output lines in a thread."""

    def __init__(self, proc: subprocess.Popen[str]) -> None:
        self.lines: list[str] = []
        self._thread = threading.Thread(target=self._read, args=(proc,), daemon=True)
        self._thread.start()

    def _read(self, proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for line in proc.stdout:
            self.lines.append(line)

    def wait_for(self, text: str, timeout: float) -> bool:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(text in line for line in self.lines):
                return True
            time.sleep(0.5)
        return False

    @property
    def text(self) -> str:
        return "".join(self.lines)


def readme_commands() -> list[list[str]]:
    """Return every scout command the README shows, in order, as argument lists."""
    readme = (PROJECT_ROOT / "README.md").read_text()
    lines = [line.strip() for line in readme.splitlines() if line.startswith("    scout ")]
    return [shlex.split(line, comments=True) for line in lines]


def test_the_demo_sends_sale_alerts_to_the_mail_folder_and_ctrl_c_stops_everything(
    tmp_path: Path,
) -> None:
    mark = uuid.uuid4().hex
    env = demo_env(tmp_path, mark)
    proc = subprocess.Popen(
        [str(PROJECT_ROOT / "scripts" / "run-local")],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        start_new_session=True,
    )
    out = Output(proc)
    try:
        # setup-env may have to install first; the story itself must take under two minutes.
        assert out.wait_for("run: starting the Procfile's", timeout=300), out.text[-4000:]
        assert out.wait_for("alert email(s) in", timeout=120), out.text[-4000:]
        mails = sorted((tmp_path / "mail").glob("*.eml"))
        messages = [email.message_from_bytes(p.read_bytes(), policy=default_policy) for p in mails]
        messages = [m for m in messages if m["Subject"] != "Sign in to SteamScout"]
        by_rcpt = {str(m["To"]): m for m in messages}
        assert set(by_rcpt) == {"mia@example.com", "leo@example.com", "zoe@example.com"}
        assert all(m["List-Unsubscribe"] for m in messages)
        zoe = by_rcpt["zoe@example.com"].get_body(("plain",)).get_content()  # type: ignore[union-attr]
        assert "Portal Circuit" in zoe and "Portal Wardens 2" in zoe
        assert "$5.00" in zoe
        assert "less " in out.text
        assert out.wait_for("demo:   it works once", timeout=90), out.text[-4000:]
        link = re.search(r"demo:   (http://localhost:\d+/sign-in/\S+)", out.text).group(1)
        page = requests.get(link.replace("localhost", "127.0.0.1"), timeout=10)
        assert (
            page.status_code == 200
            and "Sign in as" in page.text
            and "m***@example.com" in page.text
        )

        scout = str(PROJECT_ROOT / ".venv" / "bin" / "scout")
        commands = readme_commands()
        assert len(commands) >= 14
        for command in commands:
            done = subprocess.run(
                [scout, *command[1:]], env=env, capture_output=True, text=True, timeout=120
            )
            assert done.returncode == 0, (command, done.stdout[-2000:], done.stderr[-2000:])
            if command[1:3] == ["games", "--search"]:
                assert "Portal" in done.stdout
        assert len(list((tmp_path / "mail").glob("*ann@example.com.eml"))) == 1

        started = time.monotonic()
        os.killpg(proc.pid, signal.SIGINT)
        proc.wait(timeout=15)
        assert time.monotonic() - started < 10
        time.sleep(0.5)
        assert processes_marked(mark) == []
        assert "SIGKILL" not in out.text
        assert "starting redis-server" in out.text and not (tmp_path / "redis.pid").exists()
    finally:
        (tmp_path / "run-local.log").write_text(out.text)
        for pid in processes_marked(mark):
            os.kill(pid, signal.SIGKILL)
