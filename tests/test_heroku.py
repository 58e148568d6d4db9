"""Heroku: app.json describes every setting and the formation; `postgres://` works end to end."""

from __future__ import annotations

import json
import re
import shlex
import tomllib
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from tests.support.processes import migrate_with, run_scout, scout_env
from tests.support.services import fresh_postgres_database, require_postgres

APP_JSON = json.loads((PROJECT_ROOT / "app.json").read_text())


def procfile() -> dict[str, str]:
    lines = (PROJECT_ROOT / "Procfile").read_text().splitlines()
    return dict(line.split(": ", 1) for line in lines if line.strip())


def settings_read_by_config() -> set[str]:
    source = (PROJECT_ROOT / "config.py").read_text()
    return set(re.findall(r'env(?:\.get\(|,)\s*"([A-Z][A-Z0-9_]+)"', source))


def test_app_json_describes_every_setting_of_config_and_of_the_procfile() -> None:
    read = settings_read_by_config()
    assert {"DATABASE_URL", "REDIS_URL", "MAIL_PASSWORD", "STORE_RATE_LIMIT"} <= read
    in_procfile = set(re.findall(r"\$\{([A-Z_]+)", (PROJECT_ROOT / "Procfile").read_text()))
    env = APP_JSON["env"]
    missing = (read | in_procfile - {"PORT"}) - set(env)
    assert not missing, f"app.json lacks {sorted(missing)}"
    assert all(entry["description"].strip() for entry in env.values())
    # Values the add-ons set are never asked for; what only the operator knows is required.
    assert env["DATABASE_URL"]["required"] is False and "value" not in env["DATABASE_URL"]
    assert env["REDIS_URL"]["required"] is False and "value" not in env["REDIS_URL"]
    assert all(env[name]["required"] for name in ("MAIL_SERVER", "PUBLIC_URL"))


def test_app_json_offers_the_defaults_except_a_relay_on_587_with_starttls() -> None:
    import dataclasses

    from config import load_config

    defaults = load_config({})
    changed = {}
    for name, entry in APP_JSON["env"].items():
        if "value" in entry:
            offered = load_config({name: entry["value"]})
            changed |= {
                field.name: entry["value"]
                for field in dataclasses.fields(defaults)
                if getattr(offered, field.name) != getattr(defaults, field.name)
            }
    # A hosted relay (SendGrid, Mailgun, Postmark) takes submissions on 587 with STARTTLS, and
    # Heroku's router is one proxy in front of the web dyno.
    assert changed == {"mail_port": "587", "mail_use_tls": "true", "web_trusted_proxies": "1"}


def test_app_json_runs_exactly_one_beat_beside_the_add_ons_and_migrates() -> None:
    formation = APP_JSON["formation"]
    assert set(formation) == set(procfile()) - {"release"} == {"web", "worker", "beat"}
    assert formation["beat"]["quantity"] == 1
    plans = {addon["plan"].split(":")[0] for addon in APP_JSON["addons"]}
    assert plans == {"heroku-postgresql", "heroku-redis"}
    assert APP_JSON["scripts"]["postdeploy"] == procfile()["release"] == "alembic upgrade head"


def test_the_python_version_file_matches_the_project() -> None:
    version = (PROJECT_ROOT / ".python-version").read_text().strip()
    requires = tomllib.loads((PROJECT_ROOT / "pyproject.toml").read_text())["project"]
    assert re.fullmatch(r"3\.\d+", version)
    assert requires["requires-python"] == f">={version}"


def test_the_readme_deploys_from_heroku_create_to_ps_scale_with_one_beat() -> None:
    readme = (PROJECT_ROOT / "README.md").read_text()
    section = readme.split("## Deploying to Heroku", 1)[1].split("\n## ", 1)[0]
    commands = [line.strip() for line in section.splitlines() if line.startswith("    heroku ")]
    assert commands[0].startswith("heroku create")
    scale = shlex.split(commands[-1])
    assert scale[:2] == ["heroku", "ps:scale"] and "beat=1" in scale


@pytest.mark.slow
def test_a_heroku_postgres_url_migrates_and_answers_queries(tmp_path: Path) -> None:
    require_postgres()
    with fresh_postgres_database() as url:
        heroku_url = "postgres://" + url.split("://", 1)[1]  # as Heroku sets DATABASE_URL
        env = scout_env(DATABASE_URL=heroku_url)
        migrate_with(env)
        run_scout(["subscribe", "ann@example.com"], env)
        assert "ann@example.com" not in run_scout(["watch", "list"], env)
        assert run_scout(["games", "--json"], env).strip() == "[]"
