"""Debian's Chromium driven by Selenium: find it, start it, act and wait as a person, photograph.

Selenium gets the driver's path (Debian's chromium-driver, the same version as the browser) and
runs with SE_OFFLINE=true, so Selenium Manager never tries to download a driver. Where Chromium
is missing the browser tests skip with one reason, except under CI, where they fail.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

from tests.support.screenshots import DESKTOP, PHONE, save_screenshots

CHROMIUM = Path("/usr/bin/chromium")
CHROMEDRIVER = Path("/usr/bin/chromedriver")
FLAGS = (
    "--headless=new",
    "--no-sandbox",  # CI runs as root, where Chromium's sandbox cannot start
    "--disable-gpu",
    "--disable-dev-shm-usage",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--disable-quic",
)
WAIT = 45.0  # seconds: generous, the machine is shared and may be busy


def browser_required(environ: Mapping[str, str] = os.environ) -> bool:
    """Return True where the browser tests must run (CI, or SCOUT_REQUIRE_BROWSER=1)."""
    ci = environ.get("CI", "").strip().lower() not in ("", "0", "false", "no")
    return ci or environ.get("SCOUT_REQUIRE_BROWSER", "") == "1"


def missing(chromium: Path = CHROMIUM, driver: Path = CHROMEDRIVER) -> str | None:
    """Return why the browser tests cannot run on this machine, or None when they can."""
    absent = [str(path) for path in (chromium, driver) if not os.access(path, os.X_OK)]
    if absent:
        return (
            f"{' and '.join(absent)} not found: "
            "apt-get install chromium chromium-driver (.ci/run does it)"
        )
    if importlib.util.find_spec("selenium") is None:
        return "selenium is not installed: run scripts/setup-env"
    return None


def require_browser(
    environ: Mapping[str, str] = os.environ,
    chromium: Path = CHROMIUM,
    driver: Path = CHROMEDRIVER,
) -> None:
    """Return when Chromium can be driven; else skip the test, or fail it under CI."""
    reason = missing(chromium, driver)
    if reason is None:
        return
    if browser_required(environ):
        pytest.fail(f"the browser tests must run here (CI): {reason}", pytrace=False)
    pytest.skip(reason)


def start_chrome(profile: Path) -> Any:
    """Start headless Chromium with a fresh profile in profile; return its WebDriver."""
    from selenium import webdriver
    from selenium.webdriver.chrome.service import Service

    # With the driver's path given Selenium skips its Manager; offline makes sure it never
    # reaches for the internet if that ever changes.
    os.environ["SE_OFFLINE"] = "true"
    options = webdriver.ChromeOptions()
    options.binary_location = str(CHROMIUM)
    for flag in (*FLAGS, f"--user-data-dir={profile}"):
        options.add_argument(flag)
    options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
    driver = webdriver.Chrome(options=options, service=Service(str(CHROMEDRIVER)))
    driver.set_page_load_timeout(WAIT)
    driver.set_window_size(DESKTOP, 900)
    return driver


class Browser:
    """A person at the browser: opens pages, fills labelled fields, presses buttons, reads."""

    def __init__(self, driver: Any, base_url: str) -> None:
        self.driver = driver
        self.base_url = base_url.rstrip("/")

    def open(self, address: str) -> None:
        """Go to a path of the site or a full address, and wait for the page to load."""
        self.driver.get(address if "://" in address else self.base_url + address)
        self._wait_loaded()

    @property
    def path(self) -> str:
        """The path of the page shown, with its query and fragment."""
        return self.driver.current_url.removeprefix(self.base_url)

    def heading(self) -> str:
        """The page's h1, as shown."""
        return str(self.find("h1").text)

    def text(self, css: str = "body", within: Any = None) -> str:
        """The text shown in the first element matching css (in within, or the page)."""
        return str(self.find(css, within).text)

    def find(self, css: str, within: Any = None) -> Any:
        """The first element matching css (in within, or the page); fails when there is none."""
        from selenium.webdriver.common.by import By

        return (within or self.driver).find_element(By.CSS_SELECTOR, css)

    def find_all(self, css: str, within: Any = None) -> list[Any]:
        """Every element matching css, in within or the page."""
        from selenium.webdriver.common.by import By

        return list((within or self.driver).find_elements(By.CSS_SELECTOR, css))

    def field(self, label: str, within: Any = None) -> Any:
        """The form field whose <label> reads label (so every field needs one to be found)."""
        labels = [el for el in self.find_all("label", within) if el.text.strip() == label]
        assert labels, f"no field labelled {label!r} on {self.path}"
        return self.driver.find_element("id", labels[0].get_attribute("for"))

    def fill(self, label: str, value: str, within: Any = None) -> None:
        """Type value into the field labelled label, replacing what it held."""
        field = self.field(label, within)
        field.clear()
        field.send_keys(value)

    def choose(self, label: str, option: str, within: Any = None) -> None:
        """Pick the option shown as option in the list labelled label."""
        from selenium.webdriver.support.select import Select

        Select(self.field(label, within)).select_by_visible_text(option)

    def button(self, name: str, within: Any = None) -> Any:
        """The button whose accessible name (its whole text, hidden words too) is name."""
        found = [
            el
            for el in self.find_all("button", within)
            if " ".join((el.get_attribute("textContent") or "").split()) == name
        ]
        assert len(found) == 1, f"{len(found)} buttons named {name!r} on {self.path}"
        return found[0]

    def press(self, name: str, within: Any = None) -> None:
        """Press the button named name and wait for the page it leads to."""
        self.follow(lambda: self.button(name, within).click())

    def click(self, link: str, within: Any = None) -> None:
        """Follow the link that reads link and wait for its page."""
        found = [el for el in self.find_all("a", within) if el.text.strip() == link]
        assert found, f"no link {link!r} on {self.path}"
        self.follow(found[0].click)

    def follow(self, act: Any) -> None:
        """Do act (a click, a key) and wait until the next page has replaced this one and loaded."""
        from selenium.common.exceptions import WebDriverException

        # A mark on this document's window: the next document starts without it. (Waiting for
        # an element to go stale races the navigation: mid-way the driver raises other errors.)
        self.driver.execute_script("window.scoutLeaving = true;")
        act()
        arrived = "return !window.scoutLeaving && document.readyState === 'complete';"
        self.wait(
            lambda driver: driver.execute_script(arrived),
            "the next page",
            ignored=(WebDriverException,),
        )

    def flashes(self) -> list[str]:
        """The one-line messages the page shows after an action."""
        return [el.text for el in self.find_all(".flash")]

    def signed_in(self) -> bool:
        """Whether the navigation offers to sign out (only a signed-in person's does)."""
        return any(el.text.strip() == "Sign out" for el in self.find_all("header.site button"))

    def wait(
        self, condition: Any, what: str, timeout: float = WAIT, ignored: tuple[type, ...] = ()
    ) -> Any:
        """Return condition(driver)'s first truthy value; fail naming what and the page shown.

        Exceptions of the ignored types count as "not yet" (a page between two documents).
        """
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        waiting = WebDriverWait(self.driver, timeout, 0.1, ignored_exceptions=ignored or None)
        try:
            return waiting.until(condition)
        except TimeoutException:
            shown = self.driver.execute_script("return document.body && document.body.innerText")
            raise AssertionError(
                f"waited {timeout}s for {what} on {self.path}; the page shows:\n{shown}"
            ) from None

    def _wait_loaded(self) -> None:
        ready = "return document.readyState === 'complete'"
        self.wait(lambda driver: driver.execute_script(ready), "the page to load")

    def snap(self, step: str) -> None:
        """Save the page at 360 and 1280 px; fail if it scrolls sideways at 360 px."""
        sizes = save_screenshots(self.driver, step)
        phone = sizes[PHONE]
        assert phone["scrollWidth"] <= phone["inner"], (
            f"{step} ({self.path}) scrolls sideways at {PHONE} px: {phone['scrollWidth']} px wide"
        )

    def console_errors(self) -> list[str]:
        """Errors the browser logged since the last call (a CSP violation is one)."""
        return [
            entry["message"]
            for entry in self.driver.get_log("browser")
            if entry["level"] in ("SEVERE", "ERROR")
        ]
