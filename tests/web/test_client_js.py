"""The browser door's client side: our JavaScript, the page, the vendored xterm.js.

client.js is tested by node's own test runner (tests/web/client.test.mjs, no
npm install); this runs it so pytest's count includes it, and fails rather
than skips without node: a CI that lost node would otherwise pass untested.
"""

from __future__ import annotations

import shutil
import subprocess
import sys
from html.parser import HTMLParser
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
STATIC = ROOT / "bbs" / "web" / "static"
ASSETS = ROOT / "tools" / "web_assets.py"
PREFIX = "{{static}}/"


def test_client_js_passes_its_node_tests():
    node = shutil.which("node")
    if node is None:
        pytest.fail("node is not installed: client.js's tests need it (apt-get install nodejs)")
    result = subprocess.run(
        [node, "--test", "tests/web/"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert "# fail 0" in result.stdout


def test_vendored_files_match_their_pins():
    result = subprocess.run(
        [sys.executable, ASSETS, "--check"], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert "5 vendored files match their pins" in result.stdout


def test_the_check_catches_a_changed_or_missing_file(tmp_path):
    vendor = tmp_path / "vendor"
    shutil.copytree(STATIC / "vendor", vendor)
    with (vendor / "xterm" / "xterm.js").open("ab") as js:
        js.write(b"\n")
    (vendor / "addon-fit" / "LICENSE").unlink()
    result = subprocess.run(
        [sys.executable, ASSETS, "--check", "--vendor", vendor],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1
    assert "xterm/xterm.js: sha256" in result.stderr
    assert "addon-fit/LICENSE: missing" in result.stderr


class Page(HTMLParser):
    """What of index.html matters to the Content-Security-Policy and the server."""

    def __init__(self) -> None:
        super().__init__()
        self.urls: list[str] = []
        self.inline: list[str] = []
        self.scripts = 0
        self._in: str | None = None

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        for name, value in attrs:
            if name in ("src", "href") and value is not None:
                self.urls.append(value)
            if name == "style" or name.startswith("on"):
                self.inline.append(f"<{tag} {name}=>")
        if tag == "script":
            self.scripts += 1
        if tag in ("script", "style"):
            self._in = tag

    def handle_endtag(self, tag: str) -> None:
        self._in = None

    def handle_data(self, data: str) -> None:
        if self._in is not None and data.strip():
            self.inline.append(f"<{self._in}>{data.strip()[:40]}")


def page() -> Page:
    parsed = Page()
    parsed.feed((STATIC / "index.html").read_text(encoding="utf-8"))
    return parsed


def test_the_page_loads_only_our_static_files_that_exist():
    parsed = page()
    assert parsed.scripts == 3
    assert parsed.urls
    for url in parsed.urls:
        assert url.startswith(PREFIX), url
        assert (STATIC / url.removeprefix(PREFIX)).is_file(), url
    for name in ("vendor/xterm/xterm.js", "vendor/addon-fit/addon-fit.js", "client.js"):
        assert PREFIX + name in parsed.urls


def test_the_page_has_no_inline_script_or_style():
    assert page().inline == []


def test_the_page_has_a_title_and_a_favicon():
    html = (STATIC / "index.html").read_text(encoding="utf-8")
    assert "<title>hfnjbbs</title>" in html
    assert f'rel="icon" href="{PREFIX}favicon.svg"' in html


def test_the_vendored_files_keep_their_licences():
    for folder in ("xterm", "addon-fit"):
        licence = (STATIC / "vendor" / folder / "LICENSE").read_text(encoding="utf-8")
        assert "The xterm.js authors" in licence
        assert "Permission is hereby granted, free of charge" in licence
