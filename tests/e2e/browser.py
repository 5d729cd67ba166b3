"""Debian's `chromium`, headless, driven by `chromedriver` through selenium:
open the browser door's page, type into its terminal, read its rows."""

from __future__ import annotations

import os
import re
import shutil
from pathlib import Path

import pytest

NBSP = "\u00a0"
CHROMIUM, CHROMEDRIVER = "chromium", "chromedriver"


def require_browser() -> None:
    """Skip on a developer's machine without them; fail in CI, where .ci/run installs them."""
    missing = [t for t in (CHROMIUM, CHROMEDRIVER) if shutil.which(t) is None]
    try:
        import selenium  # noqa: F401
    except ImportError:
        missing.append("selenium (pip)")
    if missing:
        if os.environ.get("CI"):
            raise AssertionError(f"CI must install {missing} (.ci/run does)")
        pytest.skip(f"needs {' and '.join(missing)} (apt-get install chromium chromium-driver)")


class Page:
    """One headless chromium showing the page at C{url}.

    Every request it makes, the WebSocket's handshake included, carries
    C{X-Forwarded-For: forwarded} (set through the DevTools protocol; a page
    cannot set it), so that behind C{--web-proxy 127.0.0.1/32} the browser
    has an address of its own.
    """

    def __init__(self, url: str, *, forwarded: str, width: int = 1000, height: int = 700) -> None:
        require_browser()
        from selenium import webdriver
        from selenium.webdriver.chrome.service import Service

        options = webdriver.ChromeOptions()
        options.binary_location = shutil.which(CHROMIUM)
        for arg in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage",
                    "--disable-gpu", f"--window-size={width},{height}", "--lang=en-US"):
            options.add_argument(arg)
        options.set_capability("goog:loggingPrefs", {"browser": "ALL"})
        self.driver = webdriver.Chrome(options=options,
                                       service=Service(shutil.which(CHROMEDRIVER)))
        self.console: list[dict] = []
        self.nick = ""  # who the page logged in as, once it has
        try:
            self.driver.execute_cdp_cmd("Network.enable", {})
            self.driver.execute_cdp_cmd("Network.setExtraHTTPHeaders",
                                        {"headers": {"X-Forwarded-For": forwarded}})
            self.driver.get(url)
        except Exception:
            self.driver.quit()
            raise

    def rows(self) -> list[str]:
        """The terminal's rows as shown (xterm's DOM renderer), trailing blanks dropped."""
        from selenium.common.exceptions import StaleElementReferenceException

        script = ("return Array.from(document.querySelectorAll('.xterm-rows > div'),"
                  " (row) => row.textContent);")
        try:
            rows = self.driver.execute_script(script)
        except StaleElementReferenceException:
            return []
        return [row.replace(NBSP, " ").rstrip() for row in rows]

    def wait(self, pattern: str, deadline: float = 10.0) -> list[str]:
        """Poll the rows until C{pattern} matches them (C{$} ends a row); the rows."""
        from selenium.common.exceptions import TimeoutException
        from selenium.webdriver.support.ui import WebDriverWait

        rx = re.compile(pattern, re.MULTILINE)
        seen: list[list[str]] = [[]]

        def shown(_driver) -> list[str] | None:
            seen[0] = self.rows()
            return seen[0] if rx.search("\n".join(seen[0])) else None

        try:
            return WebDriverWait(self.driver, deadline, poll_frequency=0.05).until(shown)
        except TimeoutException:
            raise AssertionError(f"page never showed {pattern!r}:\n"
                                 + "\n".join(seen[0])) from None

    def type(self, *keys: str) -> None:
        """Keys (text or selenium C{Keys}) into the terminal, as a person types them."""
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.by import By

        area = self.driver.find_element(By.CSS_SELECTOR, ".xterm-helper-textarea")
        if self.driver.switch_to.active_element != area:
            self.driver.find_element(By.ID, "terminal").click()
        ActionChains(self.driver).send_keys(*keys).perform()

    def status(self) -> tuple[bool, str]:
        """The disconnect bar: whether it shows, and its text."""
        from selenium.webdriver.common.by import By

        bar = self.driver.find_element(By.ID, "status")
        return bar.is_displayed(), bar.text

    def errors(self) -> list[dict]:
        """The console's errors so far (read once: chromedriver hands each entry out once)."""
        self.console += self.driver.get_log("browser")
        return [e for e in self.console if e["level"] == "SEVERE"]

    def screenshot(self, path: Path) -> Path:
        assert self.driver.save_screenshot(str(path)), path
        return path

    def close(self) -> None:
        self.driver.quit()
