"""Flower, started with the README's command, sees a real worker and its tasks behind basic auth."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest
import requests

from config import PROJECT_ROOT
from tests.support.processes import Proc, scout_env, start_worker, wait_until
from tests.support.smtp import free_port

pytestmark = pytest.mark.slow
pytest.importorskip("flower", reason="the flower extra is not installed (scripts/setup-env)")


def readme_flower_command() -> str:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Flower", 1)[1].split("\n## ", 1)[0]
    (line,) = [line.strip() for line in section.splitlines() if line.startswith("    flower: ")]
    return line.removeprefix("flower: ")


def flower_env(**extra: str) -> dict[str, str]:
    env = scout_env(PORT=str(free_port()), FLOWER_ADDRESS="127.0.0.1", **extra)
    env["PATH"] = f"{Path(PROJECT_ROOT / '.venv' / 'bin')}:{env.get('PATH', '')}"
    return env


def test_flower_refuses_to_start_without_basic_auth() -> None:
    env = flower_env()
    env.pop("FLOWER_BASIC_AUTH", None)
    done = subprocess.run(
        ["sh", "-c", readme_flower_command()], env=env, capture_output=True, text=True, timeout=30
    )
    assert done.returncode != 0
    err = done.stderr.strip()
    assert "\n" not in err and "FLOWER_BASIC_AUTH" in err and "user:password" in err


def test_flower_reads_the_worker_and_its_tasks_behind_basic_auth() -> None:
    env = flower_env(FLOWER_BASIC_AUTH="admin:flower-s3cret")
    worker = start_worker(env, name="flowerprobe@%h")
    flower = Proc(["sh", "-c", readme_flower_command()], env)
    url = f"http://127.0.0.1:{env['PORT']}"
    try:
        flower.wait_for("Visit me at", timeout=60)
        assert requests.get(f"{url}/api/workers", timeout=10).status_code == 401
        wrong = requests.get(f"{url}/api/workers", auth=("admin", "guess"), timeout=10)
        assert wrong.status_code == 401

        def worker_seen() -> dict | None:
            answer = requests.get(
                f"{url}/api/workers?refresh=1", auth=("admin", "flower-s3cret"), timeout=20
            )
            assert answer.status_code == 200
            found = {k: v for k, v in answer.json().items() if k.startswith("flowerprobe@")}
            return found or None

        workers = wait_until(worker_seen, 30, "the worker in Flower's API", flower)
        (info,) = workers.values()  # type: ignore[attr-defined]
        assert "scheduler.tasks.catalogue.scrape_catalogue" in info["registered"]
        assert "scheduler.tasks.alerts.send_digests" in info["registered"]
        assert {q["name"] for q in info["active_queues"]} == {"celery", "scrape", "mail"}
        assert "flower-s3cret" not in flower.text
    finally:
        flower.stop()
        worker.stop()


@pytest.mark.parametrize("auth", ["admin:", ":", "admin:flower-s3cret,ops:"])
def test_flower_refuses_an_empty_user_or_password_in_one_line(auth: str) -> None:
    # Flower started with "admin:" and let in anyone who sent an empty password.
    env = flower_env(FLOWER_BASIC_AUTH=auth)
    done = subprocess.run(
        ["sh", "-c", readme_flower_command()], env=env, capture_output=True, text=True, timeout=60
    )
    output = (done.stdout + done.stderr).strip()
    assert done.returncode != 0, output
    assert len(output.splitlines()) == 1 and "Traceback" not in output, output
    assert "FLOWER_BASIC_AUTH" in output and "user:password" in output
    assert "flower-s3cret" not in output
