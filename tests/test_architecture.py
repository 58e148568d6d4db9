"""The import rules of docs/architecture.md, read from every module's import statements.

Every `import` and `from ... import` counts, wherever it stands: at the top, inside a function,
under `if TYPE_CHECKING:`. `from a import b` counts as importing both `a` and `a.b`, since b may
be a module.
"""

from __future__ import annotations

import ast
from collections.abc import Callable, Iterable, Mapping
from pathlib import Path

import pytest

from config import PROJECT_ROOT
from scheduler.cli import COMMAND_MODULES

OURS = {
    "config",
    "beat_schedule",
    "models",
    "scheduler",
    "migrations",
    "storesim",
    "tests",
    "bench",
}
PRODUCT = ("config", "beat_schedule", "models", "scheduler", "migrations")
APPARATUS = ("storesim", "tests", "bench")
# Libraries only the test extra installs: a production install does not have them.
TEST_LIBRARIES = ("bs4", "aiosmtpd", "pytest")
FETCH_AND_PARSE = {
    "scheduler.catalogue.appdetails",
    "scheduler.catalogue.client",
    "scheduler.catalogue.limiter",
    "scheduler.catalogue.parse",
    "scheduler.catalogue.polite",
    "scheduler.catalogue.texts",
    "scheduler.wishlist.answers",
    "scheduler.wishlist.profile",
    "scheduler.wishlist.steam",
}
DATABASE_LIBRARIES = ("sqlalchemy", "alembic", "psycopg")
CELERY_APP = "scheduler.celery_app"
# The CLI's optional registration of the development install's `scout store-sim`.
STORE_SIM_REGISTRATION = ("scheduler.cli.store_sim", "storesim")


def module_name(path: Path) -> str:
    """Return the dotted name of the module at path, relative to the checkout."""
    parts = list(path.relative_to(PROJECT_ROOT).with_suffix("").parts)
    if parts[-1] == "__init__":
        parts.pop()
    return ".".join(parts)


def imported_names(source: str, module: str, is_package: bool = False) -> set[str]:
    """Return every module name the source imports, relative imports resolved against module."""
    found: set[str] = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                anchor = package.split(".")[: len(package.split(".")) - node.level + 1]
                base = ".".join([*anchor, base] if base else anchor)
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names if alias.name != "*")
    return found


def repository_imports() -> dict[str, set[str]]:
    """Return, for every module of ours outside tests/, the names of ours it imports."""
    paths = [*PROJECT_ROOT.glob("*.py")]
    for top in sorted(OURS - {"tests"}):
        paths.extend((PROJECT_ROOT / top).rglob("*.py"))
    graph: dict[str, set[str]] = {}
    for path in paths:
        name = module_name(path)
        names = imported_names(path.read_text(), name, path.name == "__init__.py")
        graph[name] = names
    return graph


def within(name: str, prefixes: Iterable[str]) -> bool:
    """Return whether name is one of prefixes or inside one of them."""
    return any(name == prefix or name.startswith(prefix + ".") for prefix in prefixes)


def ours(names: Iterable[str]) -> set[str]:
    """Return the names among names that are modules of this repository."""
    return {name for name in names if within(name, OURS)}


def config_and_models_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """config imports nothing of ours; models import nothing of ours but models."""
    found = [f"config imports {name}" for name in sorted(ours(graph.get("config", set())))]
    for module, names in graph.items():
        if within(module, ["models"]):
            found += [
                f"{module} imports {n}" for n in sorted(ours(names)) if not within(n, ["models"])
            ]
    return found


def fetch_and_parse_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Fetching and parsing import no database code: of ours only each other and config."""
    found = []
    allowed = [*FETCH_AND_PARSE, "config"]
    # as in `from scheduler.catalogue import parse`
    packages = {"scheduler", "scheduler.catalogue", "scheduler.wishlist"}
    for module in sorted(FETCH_AND_PARSE & graph.keys()):
        for name in sorted(graph[module]):
            ok = name in packages or within(name, allowed)
            if within(name, DATABASE_LIBRARIES) or (within(name, OURS) and not ok):
                found.append(f"{module} imports {name}")
    return found


def tasks_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Nothing imports scheduler.tasks but the tasks themselves and the Celery app module."""
    found = []
    for module, names in sorted(graph.items()):
        if module == CELERY_APP or within(module, ["scheduler.tasks"]):
            continue
        found += [f"{module} imports {n}" for n in sorted(names) if within(n, ["scheduler.tasks"])]
    return found


def apparatus_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """The product imports no test apparatus or test-only library, but for `scout store-sim`."""
    found = []
    for module, names in sorted(graph.items()):
        if not within(module, PRODUCT):
            continue
        for name in sorted(names):
            apparatus = within(name, APPARATUS) or within(name, TEST_LIBRARIES)
            if apparatus and (module, name.split(".")[0]) != STORE_SIM_REGISTRATION:
                found.append(f"{module} imports {name}")
    return found


# The only product modules that load the Config from the environment; everything else is
# handed a Config (or the app built from one) by them.
ENTRY_POINTS = {
    "scheduler.celery_app",
    "scheduler.web.wsgi",
    "scheduler.cli.services",
    "migrations.env",
}
READS_ENVIRONMENT = ("config.get_config", "config.load_config")


def environment_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """Only entry points load the Config from the environment."""
    found = []
    for module, names in sorted(graph.items()):
        if not within(module, PRODUCT) or module in ENTRY_POINTS:
            continue
        found += [f"{module} imports {n}" for n in sorted(names) if n in READS_ENVIRONMENT]
    return found


def is_test_module(name: str) -> bool:
    """Return True for a module pytest collects (tests/**/test_*.py)."""
    return within(name, ["tests"]) and name.rsplit(".", 1)[-1].startswith("test_")


def borrowed_helper_violations(graph: Mapping[str, set[str]]) -> list[str]:
    """No module imports a test module: helpers live in tests/support, fixtures in conftest."""
    found = []
    for module, names in sorted(graph.items()):
        found += [f"{module} imports {n}" for n in sorted(names) if is_test_module(n)]
    return found


Graph = Mapping[str, set[str]]
Rule = Callable[[Graph], list[str]]

RULES: list[Rule] = [
    config_and_models_violations,
    fetch_and_parse_violations,
    tasks_violations,
    apparatus_violations,
    environment_violations,
    borrowed_helper_violations,
]


def test_only_config_reads_os_environ_in_the_product() -> None:
    readers = []
    for package in PRODUCT:
        paths = [PROJECT_ROOT / f"{package}.py"] + sorted((PROJECT_ROOT / package).rglob("*.py"))
        for path in paths:
            if path.is_file() and path.name != "config.py":
                source = path.read_text()
                if "os.environ" in source or "getenv(" in source:
                    readers.append(module_name(path))
    assert readers == []


def test_loading_the_config_outside_an_entry_point_is_reported() -> None:
    source = "def handler():\n    from config import get_config\n    return get_config()\n"
    graph = {"scheduler.alerts.delivery": imported_names(source, "scheduler.alerts.delivery")}
    assert environment_violations(graph) == ["scheduler.alerts.delivery imports config.get_config"]


@pytest.mark.parametrize("rule", RULES, ids=lambda rule: rule.__name__)
def test_the_repository_keeps_the_import_rule(rule: Rule) -> None:
    assert rule(repository_imports()) == []


def test_the_scan_sees_the_product_and_the_apparatus() -> None:
    graph = repository_imports()
    assert {"config", "models.base", "scheduler.cli.store_sim", "migrations.env"} <= graph.keys()
    assert {"storesim.cli", "bench.scrape"} <= graph.keys()
    assert "storesim" in graph["scheduler.cli.store_sim"]


def test_the_cli_loads_its_commands_only_from_its_own_folder() -> None:
    # COMMAND_MODULES are imported by name, which no import statement shows.
    assert all(within(name, ["scheduler.cli"]) for name in COMMAND_MODULES)


def test_an_import_inside_a_function_counts() -> None:
    source = "def handler():\n    from scheduler import tasks\n    return tasks\n"
    graph = {"scheduler.web.app": imported_names(source, "scheduler.web.app")}
    assert tasks_violations(graph) == ["scheduler.web.app imports scheduler.tasks"]


def test_a_relative_import_is_resolved_before_the_rules_apply() -> None:
    graph = {"models.game": imported_names("from ..scheduler import health\n", "models.game")}
    assert "models.game imports scheduler.health" in config_and_models_violations(graph)
    parse = imported_names("from .persist import upsert_listings\n", "scheduler.catalogue.parse")
    graph = {"scheduler.catalogue.parse": parse}
    assert fetch_and_parse_violations(graph) == [
        "scheduler.catalogue.parse imports scheduler.catalogue.persist",
        "scheduler.catalogue.parse imports scheduler.catalogue.persist.upsert_listings",
    ]


@pytest.mark.parametrize(
    ("module", "source", "rule"),
    [
        ("config", "import models\n", config_and_models_violations),
        ("models.alert", "from scheduler.alerts import rules\n", config_and_models_violations),
        ("scheduler.catalogue.client", "import sqlalchemy\n", fetch_and_parse_violations),
        ("scheduler.catalogue.texts", "from models import Game\n", fetch_and_parse_violations),
        ("scheduler.cli.check", "import scheduler.tasks.alerts\n", tasks_violations),
        ("scheduler.health", "from storesim.store import start_store\n", apparatus_violations),
        ("scheduler.cli.store_sim", "from tests.support import store\n", apparatus_violations),
        ("migrations.env", "import bench.scrape\n", apparatus_violations),
        ("scheduler.catalogue.persist", "from bs4 import BeautifulSoup\n", apparatus_violations),
        (
            "tests.web.test_x",
            "from tests.alerts.test_delivery import watch\n",
            borrowed_helper_violations,
        ),
    ],
)
def test_each_rule_reports_a_module_that_breaks_it(module: str, source: str, rule: Rule) -> None:
    assert rule({module: imported_names(source, module)}) != []
