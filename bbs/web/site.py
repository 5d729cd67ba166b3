"""The browser door's web site: the page, its assets and its WebSocket.

  - C{GET /}: the page (C{static/index.html}), never cached, with a
    Content-Security-Policy that allows our own files only;
  - C{GET /static/VERSION/...}: the page's files, VERSION a hash of them
    all, so that they are cached for good and a new release is fetched anew;
  - C{GET /ws}: the WebSocket (L{bbs.web.door}).

Anything else is a plain 404.  Behind a reverse proxy (C{--web-proxy}),
the browser's address is the last one of the proxy's C{X-Forwarded-For};
from anyone else the header is ignored.
"""

from __future__ import annotations

import hashlib
import inspect
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from urllib.parse import urlsplit

from autobahn.twisted.resource import WebSocketResource
from autobahn.twisted.websocket import WebSocketServerFactory
from autobahn.websocket.types import ConnectionDeny, ConnectionRequest
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger
from twisted.web.pages import notFound
from twisted.web.resource import IResource, Resource
from twisted.web.server import Request, Site
from twisted.web.static import File

from bbs.door import DoorApplication
from bbs.guard.addresses import NetworkSet, normalize_ip
from bbs.rates import RateLimit
from bbs.turns import turn_end
from bbs.web.door import WebChannel, WebDoor, WebLimits

log = Logger()

LOG_RATE, LOG_PER = 10, 60.0  # lines about one address a minute
FOREVER = "public, max-age=31536000, immutable"
HTTP_IDLE = 60.0  # seconds
# Our own files only.  Styles: xterm.js writes its own <style> for its
# theme and cell layout, so inline styles are allowed; scripts never are.
CSP = ("default-src 'none'; script-src 'self'; style-src 'self' 'unsafe-inline'; "
       "img-src 'self'; connect-src 'self'; base-uri 'none'; form-action 'none'; "
       "frame-ancestors 'none'")


def static_folder() -> Path:
    return Path(str(resources.files("bbs") / "web" / "static"))


def version(folder: Path) -> str:
    """A hash of every file the page uses: their URLs change when one does."""
    digest = hashlib.sha256()
    for path in sorted(p for p in folder.rglob("*") if p.is_file()):
        digest.update(str(path.relative_to(folder)).encode() + b"\0" + path.read_bytes())
    return digest.hexdigest()[:12]


class Page(Resource):
    """The page, with its assets' versioned URLs filled in."""

    isLeaf = True

    def __init__(self, html: bytes) -> None:
        super().__init__()
        self.html = html

    def render_GET(self, request: Request) -> bytes:  # noqa: N802
        if request.postpath not in ([], [b""]):
            request.setResponseCode(404)
            request.setHeader(b"content-type", b"text/plain; charset=utf-8")
            return b"Not found.\n"
        request.setHeader(b"content-type", b"text/html; charset=utf-8")
        request.setHeader(b"cache-control", b"no-store")
        _secure(request)
        return self.html


class Root(Resource):
    """C{/}: the page itself, or one of its children."""

    def __init__(self, page: Page) -> None:
        super().__init__()
        self.page = page

    def getChild(self, path: bytes, request: Request) -> IResource:  # noqa: N802
        if path == b"":
            return self.page
        return notFound()


class Versioned(Resource):
    """C{/static/VERSION/...}: the folder's files under their version only."""

    def __init__(self, folder: Path, current: str) -> None:
        super().__init__()
        self.current = current.encode()
        self.files = _Cached(str(folder))

    def getChild(self, path: bytes, request: Request) -> IResource:  # noqa: N802
        if path != self.current:
            return notFound()
        return self.files

    def render(self, request: Request) -> bytes:
        return notFound().render(request)


class _Cached(File):
    """Static files for good: their URL names their version."""

    def render_GET(self, request: Request) -> bytes | int:  # noqa: N802
        request.setHeader(b"cache-control", FOREVER.encode())
        request.setHeader(b"x-content-type-options", b"nosniff")
        return super().render_GET(request)

    def directoryListing(self) -> IResource:  # noqa: N802
        return notFound()

    def createSimilarFile(self, path: str) -> File:  # noqa: N802
        similar = _Cached(path, self.defaultType, self.ignoredExts, self.registry)
        similar.processors = self.processors
        similar.indexNames = []
        return similar


def _secure(request: Request) -> None:
    request.setHeader(b"content-security-policy", CSP.encode())
    request.setHeader(b"x-content-type-options", b"nosniff")
    request.setHeader(b"referrer-policy", b"no-referrer")


class WebDoorFactory(WebSocketServerFactory):
    """Makes the door of each WebSocket: checks where it comes from (the
    page's origin, the browser's address) and whether it may come in."""

    protocol = WebChannel

    def __init__(self, *, admit: Callable[[str], str | None], make_app: Callable[[], DoorApplication],
                 clock: IReactorTime, limits: WebLimits, proxies: NetworkSet,
                 origins: frozenset[str]) -> None:
        super().__init__()
        self.admit = admit
        self.make_app = make_app
        self.clock = clock
        self.limits = limits
        self.proxies = proxies
        self.origins = origins
        self.log_limit = RateLimit(clock, LOG_RATE, LOG_PER, _suppressed)
        self.setProtocolOptions(
            maxFramePayloadSize=limits.message, maxMessagePayloadSize=limits.message,
            # No auto-ping: it holds a timer per connection (3 KB each);
            # the session's keepalive pings instead (L{WebDoor.keepalive}).
            autoPingInterval=0,
            openHandshakeTimeout=10, closeHandshakeTimeout=2,
            failByDrop=False,  # a bad frame is answered with its close code
        )
        # Autobahn copies its ~40 options into every connection that lacks
        # them: as class attributes of our own channel class, each has them
        # once (2 KB less a browser).
        # (A function among them stays a plain function, not a method.)
        self.protocol = type("WebChannel", (WebChannel,), {
            name: staticmethod(value) if inspect.isfunction(value) else value
            for name in WebChannel.CONFIG_ATTRS for value in [getattr(self, name)]})

    def door_for(self, channel: WebChannel, request: ConnectionRequest) -> WebDoor:
        if not self._origin_allowed(request):
            raise ConnectionDeny(ConnectionDeny.FORBIDDEN, "This page's origin may not connect.")
        peer = _address(request.peer)
        ip = self.client_ip(peer[0], request.headers)
        return WebDoor(channel, admit=self.admit, make_app=self.make_app, peer=(ip, peer[1]),
                       clock=self.clock, turns=turn_end(self.clock),
                       limits=self.limits, log_limit=self.log_limit)

    def client_ip(self, peer: str, headers: dict[str, str]) -> str:
        """The browser's address: the connection's, or, from a proxy we
        believe, the last address its C{X-Forwarded-For} names."""
        forwarded = headers.get("x-forwarded-for")
        if forwarded and peer in self.proxies:
            last = forwarded.split(",")[-1].strip()
            try:
                return str(normalize_ip(last))
            except ValueError:
                pass  # not an address: the proxy's own is all we know
        return peer

    def _origin_allowed(self, request: ConnectionRequest) -> bool:
        origin = (request.origin or "").lower()
        if origin in self.origins:
            return True
        parts = urlsplit(origin)
        host = request.headers.get("host", "").lower()  # with its port, as the origin's
        return parts.scheme in ("http", "https") and bool(host) and parts.netloc == host


def _address(peer: str) -> tuple[str, int]:
    """Autobahn's peer (C{tcp:1.2.3.4:5678}, C{tcp6:[::1]:5678}) as an address and port."""
    kind, _, rest = peer.partition(":")
    host, _, port = rest.rpartition(":")
    host = host.strip("[]")
    try:
        return str(normalize_ip(host)), int(port)
    except ValueError:
        return host, 0


def _suppressed(ip: str, count: int) -> None:
    log.info("{count} more log lines about browser {ip} were not written", count=count, ip=ip)


def web_site(factory: WebDoorFactory, folder: Path | None = None) -> Site:
    """The site: the page, its files and the WebSocket."""
    folder = folder or static_folder()
    current = version(folder)
    html = (folder / "index.html").read_bytes().replace(
        b"{{static}}", b"/static/" + current.encode())
    root = Root(Page(html))
    root.putChild(b"static", Versioned(folder, current))
    root.putChild(b"ws", WebSocketResource(factory))
    # An idle HTTP connection (one that sends no request, or half of one)
    # is closed after a minute, not Twisted's twelve hours.
    site = Site(root, timeout=HTTP_IDLE)
    site.displayTracebacks = False
    return site
