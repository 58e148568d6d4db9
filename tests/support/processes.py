"""Real processes for the tests: workers, beat, Flower, redis-server, with their output kept."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from config import PROJECT_ROOT

BIN = Path(sys.executable).parent


class Proc:
    """A process started in its own session; its merged stdout/stderr lines are kept in .lines."""

    def __init__(self, args: Sequence[str], env: Mapping[str, str], cwd: Path = PROJECT_ROOT):
        self.args = list(args)
        self.lines: list[str] = []
        self.popen = subprocess.Popen(
            self.args,
            env=dict(env),
            cwd=cwd,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
            start_new_session=True,
        )
        self._reader = threading.Thread(target=self._read, daemon=True)
        self._reader.start()

    def _read(self) -> None:
        assert self.popen.stdout is not None
        for line in self.popen.stdout:
            self.lines.append(line)

    @property
    def text(self) -> str:
        """Everything the process printed so far."""
        return "".join(self.lines)

    def wait_for(self, text: str, timeout: float) -> None:
        """Return once text appears in the output; raise AssertionError (with the output) if not."""
        wait_until(lambda: text in self.text, timeout, f"{text!r} from {self.args[:4]}", self)

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 20) -> int:
        """Signal the process group, wait for the leader and return its exit status."""
        if self.popen.poll() is None:
            try:
                os.killpg(self.popen.pid, sig)
                return self.popen.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                pass
            except ProcessLookupError:
                return self.popen.wait(timeout=timeout)
        self.kill()
        return self.popen.wait(timeout=timeout)

    def kill(self) -> None:
        """SIGKILL the whole group (cleanup after a failed test)."""
        try:
            os.killpg(self.popen.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass


def wait_until(
    check: Callable[[], object], timeout: float, what: str, proc: Proc | None = None
) -> object:
    """Return check()'s first truthy result within timeout; raise AssertionError otherwise."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if result := check():
            return result
        time.sleep(0.1)
    tail = f"\n--- output ---\n{proc.text[-3000:]}" if proc is not None else ""
    raise AssertionError(f"timed out after {timeout}s waiting for {what}{tail}")


def scout_env(**overrides: str) -> dict[str, str]:
    """Return this test run's environment with overrides, for scout, celery and alembic."""
    env = dict(os.environ)
    env.update(overrides)
    env["PYTHONUNBUFFERED"] = "1"
    return env


def run_scout(args: Sequence[str], env: Mapping[str, str], timeout: float = 120) -> str:
    """Run `scout args`; return its stdout, raise AssertionError with stderr on failure."""
    done = subprocess.run(
        [str(BIN / "scout"), *args], env=dict(env), capture_output=True, text=True, timeout=timeout
    )
    assert done.returncode == 0, f"scout {' '.join(args)}: {done.stdout[-1500:]}{done.stderr}"
    return done.stdout


def migrate_with(env: Mapping[str, str]) -> None:
    """Run the Procfile's release step (alembic upgrade head) as a process with env."""
    done = subprocess.run(
        [str(BIN / "alembic"), "upgrade", "head"],
        env=dict(env),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert done.returncode == 0, done.stderr[-3000:]


def start_worker(
    env: Mapping[str, str],
    *,
    queues: str = "celery,scrape,mail",
    name: str = "worker1@%h",
    concurrency: int = 2,
    soft_shutdown: float = 1.0,
) -> Proc:
    """Start `celery worker` as the Procfile does (events on), on queues, named name.

    The soft shutdown is 1 s, not the Procfile's 20 s, so stopping an idle worker is quick.
    """
    args = [str(BIN / "celery"), "-A", "scheduler.celery_app", "worker", "-E", "-Q", queues]
    args += ["-n", name, "--concurrency", str(concurrency), "--without-gossip"]
    args += ["--without-mingle", "--loglevel", "INFO"]
    args += ["--", f"worker.soft_shutdown_timeout={soft_shutdown}"]
    worker = Proc(args, {**env, "REMAP_SIGTERM": "SIGQUIT"})
    worker.wait_for(" ready.", timeout=60)
    return worker


def start_beat(env: Mapping[str, str]) -> Proc:
    """Start `celery beat` with the database scheduler, as the Procfile does."""
    args = [str(BIN / "celery"), "-A", "scheduler.celery_app", "beat"]
    args += ["-S", "scheduler.beat.scheduler:DatabaseScheduler", "--loglevel", "INFO"]
    return Proc(args, env)
