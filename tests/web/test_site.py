"""bbs.web.site: the page, its versioned files, and who may open the WebSocket."""

from __future__ import annotations

from pathlib import Path

import pytest
from autobahn.websocket.types import ConnectionDeny
from twisted.internet.task import Clock
from twisted.internet.testing import StringTransport
from twisted.web.server import NOT_DONE_YET
from twisted.web.test.requesthelper import DummyRequest

from bbs.guard.addresses import NetworkSet
from bbs.web.door import WebLimits
from bbs.web.site import CSP, WebDoorFactory, version, web_site


@pytest.fixture
def folder(tmp_path: Path) -> Path:
    (tmp_path / "index.html").write_text(
        '<script src="{{static}}/client.js"></script>', encoding="utf-8")
    (tmp_path / "client.js").write_text("// ours\n", encoding="utf-8")
    return tmp_path


def factory(**kwargs) -> WebDoorFactory:
    options = dict(admit=lambda ip: None, make_app=object, clock=Clock(), limits=WebLimits(),
                   proxies=NetworkSet(), origins=frozenset())
    options.update(kwargs)
    return WebDoorFactory(**options)


def get(site, path: bytes) -> tuple[DummyRequest, bytes]:
    request = DummyRequest(path.strip(b"/").split(b"/") if path != b"/" else [b""])
    request.uri = request.path = path
    resource = site.getResourceFor(request)
    body = resource.render(request)
    if body is NOT_DONE_YET:
        body = b"".join(request.written)
    return request, body


def test_the_page_names_its_files_by_version_and_is_never_cached(folder):
    site = web_site(factory(), folder)
    request, body = get(site, b"/")
    assert body == f'<script src="/static/{version(folder)}/client.js"></script>'.encode()
    headers = request.responseHeaders
    assert headers.getRawHeaders(b"cache-control") == [b"no-store"]
    assert headers.getRawHeaders(b"content-security-policy") == [CSP.encode()]
    assert "script-src 'self'" in CSP and "unsafe-eval" not in CSP


def test_files_are_served_under_their_version_only_and_cached_for_good(folder):
    site = web_site(factory(), folder)
    request, body = get(site, f"/static/{version(folder)}/client.js".encode())
    assert body == b"// ours\n"
    assert b"immutable" in request.responseHeaders.getRawHeaders(b"cache-control")[0]
    stale, _ = get(site, b"/static/000000000000/client.js")
    assert stale.responseCode == 404


@pytest.mark.parametrize("path", [b"/nothing", b"/static", b"/index.html/x"])
def test_other_paths_are_not_found(folder, path):
    request, _ = get(web_site(factory(), folder), path)
    assert request.responseCode == 404


def test_a_new_file_is_a_new_version(folder):
    before = version(folder)
    (folder / "client.js").write_text("// changed\n", encoding="utf-8")
    assert version(folder) != before


class Request:
    """Autobahn's view of an opening handshake."""

    def __init__(self, origin: str | None, host: str = "chat.example.org:8080",
                 peer: str = "tcp:192.0.2.1:4000", forwarded: str | None = None) -> None:
        self.origin, self.peer = origin, peer
        self.headers = {"host": host}
        if forwarded:
            self.headers["x-forwarded-for"] = forwarded


@pytest.mark.parametrize("origin, allowed", [
    ("http://chat.example.org:8080", True),
    ("https://chat.example.org:8080", True),
    ("http://evil.example.com", False),
    ("null", False),
    (None, False),
    ("https://partner.example.net", True),  # named with --web-origin
])
def test_only_the_doors_own_page_and_the_origins_named_may_open_the_websocket(origin, allowed):
    web = factory(origins=frozenset({"https://partner.example.net"}))
    if allowed:
        assert web._origin_allowed(Request(origin))
    else:
        assert not web._origin_allowed(Request(origin))
        with pytest.raises(ConnectionDeny):
            web.door_for(None, Request(origin))


def test_x_forwarded_for_is_believed_from_the_proxies_named_only():
    web = factory(proxies=NetworkSet(["10.0.0.0/8"]))
    assert web.client_ip("10.1.2.3", {"x-forwarded-for": "198.51.100.1, 203.0.113.7"}) \
        == "203.0.113.7"
    assert web.client_ip("192.0.2.1", {"x-forwarded-for": "203.0.113.7"}) == "192.0.2.1"
    assert web.client_ip("10.1.2.3", {"x-forwarded-for": "not an address"}) == "10.1.2.3"
    assert web.client_ip("10.1.2.3", {"x-forwarded-for": "::ffff:203.0.113.7"}) \
        == "203.0.113.7"


def test_each_connection_shares_the_factorys_options_instead_of_copying_them():
    """Autobahn copies its options into a connection that lacks them: ours has
    them from its class, 2 KB less a browser; no auto-ping timer either."""
    web = factory(limits=WebLimits(message=1000))
    channel = web.buildProtocol(None)
    channel.transport = StringTransport()
    channel._connectionMade()
    assert not set(channel.CONFIG_ATTRS) & set(vars(channel))
    assert channel.maxMessagePayloadSize == channel.maxFramePayloadSize == 1000
    assert channel.autoPingInterval == 0 and not channel.failByDrop
    # An option that is a function stays one: it is not bound to the connection.
    assert channel.perMessageCompressionAccept([]) is None
    # Once open, no queue for synchronous sends (we make none): pings still go.
    channel.http_headers = {"host": "x"}
    channel.onOpen()
    assert channel.send_queue == () and channel.http_headers is None
    channel.state, channel.websocket_version = channel.STATE_OPEN, 13
    channel.sendPing()
    assert channel.transport.value().startswith(b"\x89\x00")


def test_an_idle_http_connection_is_closed_within_a_minute(folder):
    site = web_site(factory(), folder)
    assert site.timeOut == 60
