"""The wheel works on its own: installed outside the checkout it runs, renders and migrates.

The wheel is built offline from a copy of the checkout and installed with --no-deps into a fresh
virtualenv; that venv borrows this one's site-packages for the dependencies through a .pth file
(a .pth line adds a folder to sys.path but runs none of that folder's own .pth files, so this
venv's editable installs of the checkout are not active there, which a test checks).
"""

from __future__ import annotations

import os
import shutil
import sqlite3
import subprocess
import sys
import sysconfig
import venv
import zipfile
from dataclasses import dataclass
from pathlib import Path

import pytest
from alembic.config import Config as AlembicConfig
from alembic.script import ScriptDirectory

import models
from config import PROJECT_ROOT

pytestmark = pytest.mark.slow

# What the copy of the checkout leaves behind: local state and earlier builds, which setuptools
# would otherwise pack into the wheel (a stale build/lib is a classic way to ship deleted code).
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv", "build", "dist", "*.egg-info", "__pycache__", "instance", ".*_cache", "out"
)

RENDER_ONE_DIGEST = """
import scheduler.alerts.render as render
item = render.DigestItem(
    alert_id=1, title="Portal 2 <b>", new_cents=499, old_cents=1999, currency="USD",
    lowest_before_cents=None, store_url="https://store.example/app/620",
)
digest = render.Digest(
    subscriber_id=7, email="ann@example.com", unsubscribe_token="tok", items=[item]
)
email = render.render_digest(digest, public_url="https://scout.example", domain="scout.example")
print(render.__file__)
print(email.subject)
print(email.html)
"""


@dataclass(frozen=True)
class Installed:
    """A fresh virtualenv holding only the wheel, and a folder outside the checkout to run in."""

    wheel: Path
    bin: Path
    elsewhere: Path
    env: dict[str, str]

    def run(self, *args: str) -> subprocess.CompletedProcess[str]:
        """Run one of the venv's executables from elsewhere; return the finished process."""
        command = [str(self.bin / args[0]), *args[1:]]
        return subprocess.run(
            command, cwd=self.elsewhere, env=self.env, capture_output=True, text=True, timeout=120
        )


def build_wheel(out: Path) -> Path:
    """Build the wheel from a copy of the checkout, offline; return its path."""
    source = out / "source"
    shutil.copytree(PROJECT_ROOT, source, ignore=NOT_SOURCE)
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check"]
    build = [*pip, "wheel", "--no-build-isolation", "--no-deps", "--no-index", "-q", "-w", out]
    done = subprocess.run([*build, source], capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    (wheel,) = out.glob("steamscout-*.whl")
    return wheel


def make_venv(path: Path, wheel: Path) -> Path:
    """Create a venv at path with the wheel installed and our dependencies borrowed; return bin."""
    venv.create(path, with_pip=False)
    python = path / "bin" / "python"
    site = subprocess.run(
        [python, "-c", "import sysconfig; print(sysconfig.get_path('purelib'))"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout.strip()
    ours = dict.fromkeys([sysconfig.get_path("purelib"), sysconfig.get_path("platlib")])
    (Path(site) / "borrowed-dependencies.pth").write_text("".join(f"{p}\n" for p in ours))
    pip = [sys.executable, "-m", "pip", "--disable-pip-version-check", "--python", str(python)]
    subprocess.run([*pip, "install", "--no-deps", "--no-index", "-q", wheel], check=True)
    return path / "bin"


@pytest.fixture(scope="module")
def installed(tmp_path_factory: pytest.TempPathFactory) -> Installed:
    """The wheel, built and installed into a fresh venv outside the checkout."""
    root = tmp_path_factory.mktemp("wheel")
    wheel = build_wheel(root / "dist")
    bin_dir = make_venv(root / "venv", wheel)
    elsewhere = root / "elsewhere"
    elsewhere.mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTHON", "VIRTUAL_ENV"))}
    env["DATABASE_URL"] = f"sqlite:///{root / 'scout.db'}"
    return Installed(wheel=wheel, bin=bin_dir, elsewhere=elsewhere, env=env)


def product_modules() -> set[str]:
    """Return the wheel paths every module of scheduler/, models/ and the top level must have."""
    found = {"config.py", "beat_schedule.py"}
    for package in ("scheduler", "models"):
        for path in (PROJECT_ROOT / package).rglob("*.py"):
            found.add(path.relative_to(PROJECT_ROOT).as_posix())
    return found


def test_the_wheel_holds_every_product_module_and_no_simulator_bench_or_tests(
    installed: Installed,
) -> None:
    names = set(zipfile.ZipFile(installed.wheel).namelist())
    assert product_modules() <= names
    tops = {name.split("/", 1)[0] for name in names}
    assert not tops & {"storesim", "bench", "tests", "migrations"}
    assert "steamscout_migrations/env.py" in names


def test_the_installed_venv_cannot_import_the_checkout(installed: Installed) -> None:
    probe = (
        "import importlib.util as u, scheduler, config; "
        "print(scheduler.__file__); print(config.__file__); "
        "print([n for n in ('storesim', 'tests', 'bench') if u.find_spec(n)])"
    )
    lines = installed.run("python", "-c", probe).stdout.splitlines()
    venv_dir = installed.bin.parent
    assert Path(lines[0]).is_relative_to(venv_dir) and Path(lines[1]).is_relative_to(venv_dir)
    assert lines[2] == "[]"


def test_scout_help_runs_from_another_folder(installed: Installed) -> None:
    result = installed.run("scout", "--help")
    assert result.returncode == 0, result.stderr
    assert "migrate" in result.stdout and "scrape" in result.stdout


def test_store_sim_says_in_one_line_that_it_belongs_to_the_development_install(
    installed: Installed,
) -> None:
    result = installed.run("scout", "store-sim", "--games", "5", "--port", "0")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "scout: error: store-sim belongs to the development install (scripts/setup-env in a "
        "checkout); this install has no simulated store"
    ]


def test_the_installed_package_renders_a_digest_email_from_its_own_templates(
    installed: Installed,
) -> None:
    result = installed.run("python", "-c", RENDER_ONE_DIGEST)
    assert result.returncode == 0, result.stderr
    module, subject, *html = result.stdout.splitlines()
    assert Path(module).is_relative_to(installed.bin.parent)
    assert "Portal 2" in subject
    assert "Portal 2 &lt;b&gt;" in "\n".join(html) and "tok" in "\n".join(html)


def test_scout_migrate_brings_a_new_sqlite_file_to_the_newest_revision(
    installed: Installed,
) -> None:
    result = installed.run("scout", "migrate")
    assert result.returncode == 0, result.stderr
    head = ScriptDirectory.from_config(AlembicConfig(str(PROJECT_ROOT / "alembic.ini")))
    database = installed.env["DATABASE_URL"].removeprefix("sqlite:///")
    with sqlite3.connect(database) as conn:
        (revision,) = conn.execute("SELECT version_num FROM alembic_version").fetchone()
        tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master")}
    assert revision == head.get_current_head()
    assert set(models.Base.metadata.tables) <= tables
    again = installed.run("scout", "migrate")
    assert again.returncode == 0, again.stderr


def test_with_no_database_url_an_install_keeps_its_sqlite_file_under_the_venv(
    installed: Installed,
) -> None:
    env = {k: v for k, v in installed.env.items() if k != "DATABASE_URL"}
    result = subprocess.run(
        [str(installed.bin / "scout"), "migrate"],
        cwd=installed.elsewhere, env=env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    assert (installed.bin.parent / "var" / "scout-instance" / "scout.db").is_file()
    assert not any(installed.bin.parent.glob("lib/python*/site-packages/instance"))
