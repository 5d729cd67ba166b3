"""The browser door against the real twistd, driven by a WebSocket client
speaking as the page does (tests/web holds the page's own tests)."""

from __future__ import annotations

import json
import re
import socket
import time

import pytest
from websockets.exceptions import ConnectionClosed, InvalidStatus
from websockets.sync.client import ClientConnection, connect

from tests.e2e.harness import DEADLINE, Server

BROWSER = "192.0.2.9"
_SGR = re.compile(r"\x1b\[[0-9;]*m")


def _plain(data: bytes) -> str:
    """What a terminal shows of C{data}, colours aside."""
    return _SGR.sub("", data.decode("utf-8", "replace"))  # as named by the proxy in front of the door (X-Forwarded-For)


class Browser:
    """A page's WebSocket: it types binary messages and reads what it is shown."""

    def __init__(self, srv: Server, *, forwarded: str | None = BROWSER,
                 origin: str | None = None) -> None:
        headers = {"X-Forwarded-For": forwarded} if forwarded else {}
        # Entered as a context (websockets' way) and left to the server to
        # close: every test ends with the server's stop.
        self.ws: ClientConnection = connect(
            f"ws://127.0.0.1:{srv.web_port}/ws", open_timeout=DEADLINE,
            origin=origin or f"http://127.0.0.1:{srv.web_port}",
            additional_headers=headers).__enter__()
        self.seen = b""
        try:
            self.ws.send(json.dumps({"type": "resize", "cols": 100, "rows": 30}))
        except ConnectionClosed:
            pass  # refused at once: closed() tells why

    def type(self, keys: str) -> None:
        self.ws.send(keys.encode("utf-8"))

    def expect(self, text: str, deadline: float = DEADLINE) -> str:
        """Read until C{text} is on screen (colours aside); what came up to it."""
        end = time.monotonic() + deadline
        while text not in (shown := _plain(self.seen)):
            left = end - time.monotonic()
            try:
                message = self.ws.recv(timeout=max(left, 0.01))
            except TimeoutError:
                raise AssertionError(f"never saw {text!r} in {shown[-800:]!r}") from None
            assert isinstance(message, bytes), message  # output is binary, always
            self.seen += message
        self.seen = b""
        return shown[:shown.index(text) + len(text)]

    def closed(self, deadline: float = DEADLINE) -> tuple[int, str]:
        """Wait for the server to close; its code and reason."""
        end = time.monotonic() + deadline
        try:
            while time.monotonic() < end:
                self.seen += self.ws.recv(timeout=max(end - time.monotonic(), 0.01))
        except ConnectionClosed as e:
            return e.rcvd.code, e.rcvd.reason
        except TimeoutError:
            pass
        raise AssertionError(f"still open; shown {_plain(self.seen)[-400:]!r}")


@pytest.fixture
def web(tmp_path):
    """A server with its browser door, behind a proxy on loopback, and a sysop."""
    srv = Server(tmp_path, "--web", "tcp:0:interface=127.0.0.1", "--web-proxy", "127.0.0.1/32")
    made = srv.admin("user", "add", "boss", "--sysop", stdin="boss-password-1\n")
    assert made.returncode == 0, made.stderr
    yield srv.start()
    srv.stop()


def test_a_browser_guest_chats_with_a_telnet_user(web):
    browser = Browser(web)
    first = browser.expect("login: ")
    assert "\r\n" in first  # terminal line ends
    browser.type("\r")  # Enter: a guest
    browser.expect("joined lobby")
    telnet = web.login("alice")
    browser.expect("alice joined")
    telnet.line("hello browser")
    browser.expect("<alice> hello browser")
    browser.type("hi alice\r")
    telnet.expect(b"> hi alice")
    connects = [e for e in web.events_when(
        lambda es: sum(e["eventid"] == "cowrie.session.connect" for e in es) >= 2)
        if e["eventid"] == "cowrie.session.connect"]
    assert {(e["protocol"], e["src_ip"]) for e in connects} == {("web", BROWSER),
                                                                ("telnet", "127.0.0.1")}
    size = web.events_when(lambda es: any(e["eventid"] == "cowrie.client.size" for e in es))
    assert any(e.get("width") == 100 and e.get("height") == 30 for e in size)


def test_the_browser_edits_as_a_character_mode_terminal(web):
    browser = Browser(web)
    browser.expect("login: ")
    browser.type("\r")
    browser.expect("joined lobby")
    telnet = web.login("alice")
    telnet.line("/who")
    guest = re.search(rb"guest\d+", telnet.expect(rb"guest\d+")).group(0)
    browser.type("first line\r")
    telnet.expect(b"<" + guest + b"> first line\r\n")
    browser.type("\x1b[A\r")  # Up: the line comes back from the history, and Enter says it
    telnet.expect(b"<" + guest + b"> first line\r\n")
    browser.type("日本x\x7f\x7f\r")  # Backspace over x, then over a wide character
    telnet.expect(b"<" + guest + "> 日\r\n".encode())
    telnet.line("/nick alicia")
    browser.expect("alice is now known as alicia")
    browser.type("/msg ali\t")  # Tab completes a nickname
    browser.expect("/msg alicia ")


def test_a_ban_closes_the_browser_with_its_line_and_a_reload_is_refused(web):
    browser = Browser(web)
    browser.expect("login: ")
    browser.type("\r")
    browser.expect("joined lobby")
    boss = web.login("boss", "boss-password-1")
    boss.line(f"/ban {BROWSER} 1h spam")
    boss.expect(f"Banned {BROWSER}/32 for 1h: spam".encode())
    code, _ = browser.closed()
    assert code == 1000
    assert "You are banned: spam" in _plain(browser.seen)
    again = Browser(web)
    code, reason = again.closed()
    assert code == 1008 and "banned" in reason.lower()
    assert "banned" in _plain(again.seen).lower()


def test_another_origin_is_refused_the_websocket(web):
    with pytest.raises(InvalidStatus) as refused:
        Browser(web, origin="http://evil.example.com")
    assert refused.value.response.status_code == 403


def test_the_address_is_the_connections_unless_a_named_proxy_says(tmp_path):
    srv = Server(tmp_path, "--web", "tcp:0:interface=127.0.0.1").start()
    try:
        browser = Browser(srv, forwarded="203.0.113.50")  # nobody vouches for the header
        browser.expect("login: ")
        connects = srv.events_when(
            lambda es: any(e["eventid"] == "cowrie.session.connect" for e in es))
        assert [e["src_ip"] for e in connects
                if e["eventid"] == "cowrie.session.connect"] == ["127.0.0.1"]
    finally:
        srv.stop()


def _http(port: int, request: bytes) -> bytes:
    with socket.create_connection(("127.0.0.1", port), timeout=DEADLINE) as s:
        s.sendall(request)
        reply = b""
        while chunk := s.recv(65536):
            reply += chunk
    return reply


def test_bad_requests_get_their_http_errors_and_the_door_stays_up(web):
    assert _http(web.web_port, b"GET /nothing HTTP/1.0\r\n\r\n").startswith(b"HTTP/1.0 404")
    no_key = _http(web.web_port, b"GET /ws HTTP/1.1\r\nHost: x\r\nUpgrade: websocket\r\n"
                   b"Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n\r\n")
    assert no_key.startswith(b"HTTP/1.1 400")
    page = _http(web.web_port, b"GET / HTTP/1.0\r\n\r\n")
    assert page.startswith(b"HTTP/1.0 200") and b"content-security-policy" in page.lower()
    browser = Browser(web)
    browser.expect("login: ")
