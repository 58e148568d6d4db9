"""The whole service as production runs it, for the browser tests, on 127.0.0.1.

The Procfile's `web` line (gunicorn with its access log) and `worker` line, each run by a shell
as Heroku runs them; the simulated store (`scout store-sim`); an aiosmtpd sink; a database
migrated by the Procfile's `release` step. Each gets a port of its own, and the stack a Redis db
of its own: the test session's in-process worker consumes the session's db, and a task of the
web's must never land in a worker that talks to another database. ADMIN_EMAIL is the one admin
(ADMIN_EMAILS); the Procfile's `beat` line runs only inside `Stack.beat()`, for the tests that
need one.
"""

from __future__ import annotations

import os
import re
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import requests

from tests.support import services
from tests.support.ports import free_port
from tests.support.processes import BIN, Proc, migrate_with, run_scout, scout_env, wait_until
from tests.support.procfile import commands
from tests.support.smtp import Received, SmtpServer

STORE_GAMES = 1000
STORE_SEED = 1
ADMIN_EMAIL = "root@example.com"  # in ADMIN_EMAILS: the admin console's stories sign in as it
START_TIMEOUT = 90.0  # seconds: gunicorn and the worker import the app on a busy machine
TASK_TIMEOUT = 120.0


@dataclass
class Stack:
    """The running service: its public address, its environment, its processes and its mail."""

    url: str
    env: dict[str, str]
    store_url: str
    smtp: SmtpServer
    procs: dict[str, Proc]
    logs: Path  # where the processes' output is kept once they stop

    def scout(self, *args: str) -> str:
        """Run a scout command against this stack (as an admin would); return its output."""
        return run_scout(args, self.env, timeout=TASK_TIMEOUT + 30)

    def store_control(self, spec: dict[str, Any]) -> None:
        """Change the simulated store through its control API (POST /_sim/control)."""
        answer = requests.post(f"{self.store_url}/_sim/control", json=spec, timeout=10)
        assert answer.ok, answer.text

    def mail_to(self, address: str, count: int, timeout: float = TASK_TIMEOUT) -> list[Received]:
        """Return the first count emails to address once they have arrived; fail after timeout."""

        def arrived() -> list[Received] | None:
            mine = [m for m in self.smtp.messages if address in m.rcpt_tos]
            return mine if len(mine) >= count else None

        found = wait_until(arrived, timeout, f"{count} email(s) to {address}", self.procs["worker"])
        assert isinstance(found, list)
        return found[:count]

    def mails_to(self, address: str) -> int:
        """Return how many emails to address have arrived so far."""
        return sum(address in m.rcpt_tos for m in self.smtp.messages)

    def sign_in_link(self, address: str, after: int = 0) -> str:
        """Return the link in the newest sign-in email to address, waiting for a newer one than
        the first `after` emails to it (an address that signs in again gets another link)."""
        self.mail_to(address, after + 1)
        mine = [m for m in self.smtp.messages if address in m.rcpt_tos]
        links = [link for link in (_link_in(m, self.url) for m in mine) if link]
        assert links, f"no sign-in link in the emails to {address}"
        return links[-1]

    def output(self, name: str) -> str:
        """Everything the process name ('web', 'worker', 'store') printed so far."""
        return self.procs[name].text

    @contextmanager
    def beat(self) -> Iterator[Proc]:
        """Run the Procfile's beat on this stack for the block; keep its output as beat.log.

        Not part of the stack itself: a beat firing the default entries (a check, a scrape)
        would change what the other stories see, so only the tests that need one start it.
        """
        beat = start_beat(self.env)
        try:
            wait_for_output(beat, "beat: active with")
            yield beat
        finally:
            status = beat.stop(timeout=30)
            self.logs.mkdir(parents=True, exist_ok=True)
            (self.logs / "beat.log").write_text(f"{beat.text}\n[stopped, status {status}]\n")


def _link_in(message: Received, url: str) -> str:
    """The sign-in link in an email's text part, or ''."""
    text = message.message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    match = re.search(re.escape(url) + r"/sign-in/[A-Za-z0-9_.-]+", text)
    return match.group(0) if match else ""


def procfile_command(name: str, **replace: str) -> list[str]:
    """Return the Procfile's line for name as a shell command, with text replaced as given."""
    line = commands()[name]
    for old, new in replace.items():
        assert old in line, f"the Procfile's {name} line no longer holds {old!r}: {line}"
        line = line.replace(old, new)
    return ["/bin/bash", "-c", line]


def start_store(env: dict[str, str]) -> Proc:
    """Start `scout store-sim` on a port it picks (its URL: store_url(proc))."""
    args = [str(BIN / "scout"), "store-sim", "--games", str(STORE_GAMES), "--seed"]
    return Proc([*args, str(STORE_SEED), "--titles", "hostile", "--port", "0"], env)


def wait_for_output(proc: Proc, text: str) -> None:
    """Return once proc printed text; fail at once if it exited, or after START_TIMEOUT."""

    def printed() -> bool:
        assert proc.popen.poll() is None, f"{proc.args[:3]} exited:\n{proc.text[-3000:]}"
        return text in proc.text

    wait_until(printed, START_TIMEOUT, f"{text!r} from {proc.args[:3]}", proc)


def store_url(store: Proc) -> str:
    """Return the running store's URL, once it has said it."""
    wait_for_output(store, " at http://")
    match = re.search(r" at (http://127\.0\.0\.1:\d+)", store.text)
    assert match, store.text
    return match.group(1)


def start_web(env: dict[str, str], port: int) -> Proc:
    """Start the Procfile's web line on 127.0.0.1:port (its /healthz: wait_healthy)."""
    return Proc(procfile_command("web", **{"0.0.0.0:": "127.0.0.1:"}), {**env, "PORT": str(port)})


def wait_healthy(web: Proc, url: str) -> None:
    """Return once the web answers ok on /healthz; fail if it exits or does not in time."""

    def healthy() -> bool:
        assert web.popen.poll() is None, f"the web process exited:\n{web.text[-3000:]}"
        try:
            return requests.get(f"{url}/healthz", timeout=5).text == "ok\n"
        except requests.RequestException:
            return False

    wait_until(healthy, START_TIMEOUT, "the web's /healthz", web)


def start_worker(env: dict[str, str]) -> Proc:
    """Start the Procfile's worker line (ready once it prints ' ready.')."""
    return Proc(procfile_command("worker"), {**env, "LOG_LEVEL": "INFO"})


def start_beat(env: dict[str, str]) -> Proc:
    """Start the Procfile's beat line (firing once it prints 'beat: active with')."""
    return Proc(procfile_command("beat"), {**env, "LOG_LEVEL": "INFO"})


def stack_env(redis_url: str, database_url: str, smtp: SmtpServer, port: int) -> dict[str, str]:
    """Return the environment every process of the stack runs with."""
    return scout_env(
        PATH=f"{BIN}{os.pathsep}{os.environ.get('PATH', '/usr/bin:/bin')}",
        REDIS_URL=redis_url,
        DATABASE_URL=database_url,
        MAIL_SERVER="127.0.0.1",
        MAIL_PORT=str(smtp.port),
        PUBLIC_URL=f"http://127.0.0.1:{port}",
        WEB_CONCURRENCY="2",
        WORKER_CONCURRENCY="2",
        WORKER_SOFT_SHUTDOWN_TIMEOUT="1",  # stop an idle worker quickly at the end
        ADMIN_EMAILS=ADMIN_EMAIL,
    )


@contextmanager
def running_stack(database_url: str, logs: Path) -> Iterator[Stack]:
    """Start the whole service on database_url; stop what it started and keep the logs after."""
    with ExitStack() as cleanup:
        redis_url = cleanup.enter_context(services.private_redis_db())
        smtp = cleanup.enter_context(SmtpServer())
        port = free_port()
        env = stack_env(redis_url, database_url, smtp, port)
        procs: dict[str, Proc] = {}
        cleanup.callback(stop_all, procs, logs)
        procs["store"] = start_store(env)  # its start overlaps the migrations
        migrate_with(env)
        env["STORE_URL"] = store_url(procs["store"])
        # The simulated store serves Steam's community and Web API endpoints too.
        env["STEAM_API_URL"] = env["STEAM_COMMUNITY_URL"] = env["STORE_URL"]
        # The worker and the web import the app at the same time; then wait for both.
        procs["worker"] = start_worker(env)
        procs["web"] = start_web(env, port)
        wait_for_output(procs["worker"], " ready.")
        url = f"http://127.0.0.1:{port}"
        wait_healthy(procs["web"], url)
        yield Stack(url, env, env["STORE_URL"], smtp, procs, logs)


def stop_all(procs: dict[str, Proc], logs: Path) -> None:
    """Stop the stack's processes (their groups only, all at once); write their output to logs."""
    logs.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    with ThreadPoolExecutor() as pool:
        stopped = pool.map(lambda proc: proc.stop(timeout=30), procs.values())
        statuses = dict(zip(procs, stopped, strict=True))
    for name, proc in procs.items():
        took = time.monotonic() - started
        (logs / f"{name}.log").write_text(
            f"{proc.text}\n[stopped within {took:.1f} s, status {statuses[name]}]\n"
        )
