"""Without Chromium the browser tests skip on a developer's machine and fail under CI."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.support.browser import browser_required, require_browser


def test_without_chromium_they_skip_with_one_reason_on_a_developers_machine(
    tmp_path: Path,
) -> None:
    with pytest.raises(pytest.skip.Exception) as skipped:
        require_browser({}, tmp_path / "chromium", tmp_path / "chromedriver")
    reason = str(skipped.value)
    assert "chromium" in reason and "apt-get install chromium chromium-driver" in reason
    assert len(reason.splitlines()) == 1


@pytest.mark.parametrize("environ", [{"CI": "true"}, {"SCOUT_REQUIRE_BROWSER": "1"}])
def test_without_chromium_they_fail_under_ci(tmp_path: Path, environ: dict[str, str]) -> None:
    with pytest.raises(pytest.fail.Exception, match="must run here .*chromedriver not found"):
        require_browser(environ, Path("/usr/bin/true"), tmp_path / "chromedriver")


@pytest.mark.parametrize(
    ("environ", "required"),
    [({}, False), ({"CI": "false"}, False), ({"CI": "0"}, False), ({"CI": "1"}, True)],
)
def test_only_a_ci_setting_makes_them_required(environ: dict[str, str], required: bool) -> None:
    assert browser_required(environ) is required


def test_with_chromium_and_its_driver_they_run(tmp_path: Path) -> None:
    require_browser({"CI": "true"}, Path("/usr/bin/true"), Path("/usr/bin/true"))
