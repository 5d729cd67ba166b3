"""The browser door in a real browser: headless chromium (selenium and
chromedriver) on the page of the real twistd, next to a real `telnet` in
`tmux` and raw telnet clients.  tests/e2e/test_web.py speaks the page's
protocol itself; this shows the page works."""

from __future__ import annotations

import os
import re
import shutil

import pytest

from tests.e2e.browser import Page, require_browser
from tests.e2e.harness import Server
from tests.e2e.tmux import TelnetWindow

BROWSER = "192.0.2.9"  # the browser's address, as the proxy in front of the door says
PROMPT = r"^\[lobby\]"  # trailing blanks are not in the rows
# Set it to a path to keep a copy of the screenshot of the exchange there too.
SCREENSHOT_COPY = "HFNJBBS_SCREENSHOT"


@pytest.fixture
def web(tmp_path):
    """A server with its browser door, behind a proxy on loopback, and a sysop."""
    require_browser()
    srv = Server(tmp_path, "--web", "tcp:0:interface=127.0.0.1", "--web-proxy", "127.0.0.1/32")
    made = srv.admin("user", "add", "boss", "--sysop", stdin="boss-password-1\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()


@pytest.fixture
def page(web):
    """The page in headless chromium, as a guest in the lobby; no console errors at the end."""
    shown = Page(f"http://127.0.0.1:{web.web_port}/", forwarded=BROWSER)
    try:
        assert shown.driver.title == "hfnjbbs"
        shown.wait("login:$")
        shown.type("\n")  # Enter: a guest
        rows = shown.wait(PROMPT + "$")
        shown.nick = re.search(r"Welcome, (guest\d+)!", "\n".join(rows)).group(1)
        yield shown
        assert shown.errors() == []
    finally:
        shown.close()


def test_a_browser_guest_and_a_telnet_user_in_tmux_talk(web, page, tmp_path_factory):
    telnet = TelnetWindow(web.port)
    try:
        telnet.log_in("alice")
        page.wait("alice joined")
        telnet.type("hello browser")
        telnet.keys("Enter")
        page.wait("<alice> hello browser$")
        page.type("hi alice, from chromium 日本", "\n")
        guest = page.nick
        telnet.wait(f"<{guest}> hi alice, from chromium 日本$")
        page.wait(f"<{guest}> hi alice, from chromium 日本$")
        shot = page.screenshot(tmp_path_factory.getbasetemp() / "browser-door.png")
        print(f"screenshot: {shot}")
        if os.environ.get(SCREENSHOT_COPY):
            shutil.copyfile(shot, os.environ[SCREENSHOT_COPY])
        assert shot.stat().st_size > 5000  # a picture of the page, not an empty one
    finally:
        telnet.close()
    connects = [e for e in web.events() if e["eventid"] == "cowrie.session.connect"]
    assert {(e["protocol"], e["src_ip"]) for e in connects} == {("web", BROWSER),
                                                                ("telnet", "127.0.0.1")}


def test_the_browser_edits_its_line(web, page):
    from selenium.webdriver.common.keys import Keys

    peer = web.login("alice")
    guest = page.nick
    page.type("日本x", Keys.BACKSPACE, Keys.BACKSPACE)  # over x, then over a wide character
    page.wait(PROMPT + " 日$")
    page.type("\n")
    peer.expect(f"<{guest}> 日\r\n")
    page.type(Keys.ARROW_UP)  # the history brings the line back
    page.wait(PROMPT + " 日$")
    page.type("\n")
    peer.consume()
    peer.expect(f"<{guest}> 日\r\n")
    page.type("/msg ali", Keys.TAB)  # Tab completes a nickname
    page.wait(PROMPT + " /msg alice$")
    page.type("psst\n")
    peer.expect("psst")
    page.type("half typed")
    page.wait(PROMPT + " half typed$")
    peer.line("interruption")
    rows = [r for r in page.wait("<alice> interruption") if r.strip()]
    assert rows[-2].endswith("<alice> interruption") and rows[-1] == "[lobby] half typed", rows
    page.type(" and done\n")
    peer.consume()
    peer.expect(f"<{guest}> half typed and done\r\n")


def _sizes(events: list[dict]) -> list[tuple[int, int]]:
    """The sizes the browser told, in order."""
    return [(e["width"], e["height"]) for e in events
            if e["eventid"] == "cowrie.client.size" and e["src_ip"] == BROWSER]


def test_resizing_the_window_changes_the_wrap_width(web, page):
    peer = web.login("alice")
    words = " ".join(f"w{n:03}" for n in range(30))  # 149 columns of chat
    web.events_when(lambda es: bool(_sizes(es)))  # the page has told its first size
    page.driver.set_window_size(1600, 700)
    web.events_when(lambda es: _sizes(es)[-1][0] > 160)
    peer.line(words)
    rows = page.wait("w029$")
    said = [r for r in rows if "w0" in r]
    assert said == [f"<alice> {words}"], rows  # one row
    page.driver.set_window_size(600, 700)
    cols = _sizes(web.events_when(lambda es: _sizes(es)[-1][0] < 80))[-1][0]
    peer.line(words.replace("w", "v"))
    rows = page.wait("v029$")
    said = [r for r in rows if "v0" in r]
    assert len(said) >= 149 // cols + 1, rows
    for row in said:  # wrapped by the session at a word, indented, within the new width
        assert len(row) <= cols and re.fullmatch(r"(<alice> |  )(v\d{3} )*v\d{3}", row), rows
    assert " ".join(r.strip() for r in said) == f"<alice> {words.replace('w', 'v')}"


def test_a_ban_closes_the_browser_with_its_line_and_a_reload_shows_it(web, page, tmp_path_factory):
    from selenium.webdriver.common.by import By

    boss = web.login("boss", "boss-password-1")
    boss.line(f"/ban {BROWSER} 1h spam")
    boss.expect(f"Banned {BROWSER}/32 for 1h: spam".encode())
    page.wait("You are banned: spam")
    shown, text = page.status()
    assert shown and text.startswith("Disconnected"), text
    reconnect = page.driver.find_element(By.ID, "reconnect")
    assert reconnect.is_displayed() and reconnect.text == "Reconnect"
    assert page.driver.switch_to.active_element == reconnect  # Enter reconnects
    page.driver.refresh()
    rows = page.wait("banned")
    assert not any("login:" in r for r in rows), rows
    shown, text = page.status()
    assert shown and "banned" in text.lower(), text
    print(f"screenshot: {page.screenshot(tmp_path_factory.getbasetemp() / 'browser-banned.png')}")
