"""One browser's WebSocket connection, as a L{bbs.door.Door}.

What comes in is autobahn's (L{WebChannel}): Twisted's own WebSocket
support has no bound on a message's size and no way to stop reading a
client, both of which a public server needs; autobahn has both, and checks
the handshake, frames and UTF-8.  What goes out we frame ourselves
(L{to_web}), once for a whole room.  What crosses the WebSocket is ours:

  - browser to server: I{binary} messages are what the user typed (UTF-8);
    I{text} messages are control, as JSON: C{{"type": "resize", "cols": C,
    "rows": R}}.
  - server to browser: I{binary} messages are terminal output (UTF-8, CR LF
    line ends, ANSI escapes), written to the terminal as they are.

The browser's terminal (xterm.js) lets the server echo and edit, as a
character-mode telnet client does: the session's editor works the same.
"""

from __future__ import annotations

import json
import struct
from collections.abc import Callable

import attrs
import txaio
from autobahn.twisted.websocket import WebSocketServerProtocol
from autobahn.websocket.protocol import WebSocketProtocol
from twisted.internet.interfaces import IPushProducer, IReactorTime
from twisted.logger import Logger
from zope.interface import implementer

from bbs.door import DoorApplication
from bbs.doors import TerminalDoor, TerminalLimits, clamp, crlf, typed
from bbs.rates import RateLimit
from bbs.sockets import ConnectionSocket
from bbs.turns import TurnEnd

log = Logger()

WIDTH_RANGE = (20, 500)
HEIGHT_RANGE = (5, 500)
TERMINAL = "xterm-256color"  # what xterm.js is
CLOSE_NORMAL, CLOSE_POLICY, CLOSE_TOO_BIG, CLOSE_UNSUPPORTED = 1000, 1008, 1009, 1003
OPEN = WebSocketProtocol.STATE_OPEN


@attrs.frozen
class WebLimits(TerminalLimits):
    """Bounds on what one browser can make us hold, compute or send: those
    of every terminal door, and

    @ivar message: Bytes in one WebSocket message (a paste of 16 KB passes);
        a bigger one closes the connection with 1009.
    """

    message: int = 64 * 1024


def to_web(data: bytes) -> bytes:
    """Application bytes (C{b"\\n"} line ends) to what goes on the wire: one
    binary WebSocket message (RFC 6455 5.2: final, unmasked, as a server
    sends it) of terminal bytes with CR LF line ends.

    We frame it ourselves rather than through autobahn's C{sendMessage}:
    a room line is framed once for every browser in the room (L{bbs.lines}),
    and sent at a fifteenth of the cost (``bench/ws_load.py``); the test
    holds it to the bytes autobahn makes.
    """
    data = crlf(data)
    n = len(data)
    if n < 126:
        return bytes((0x82, n)) + data
    if n < 65536:
        return _HEAD16.pack(0x82, 126, n) + data
    return _HEAD64.pack(0x82, 127, n) + data


_HEAD16, _HEAD64 = struct.Struct("!BBH"), struct.Struct("!BBQ")


def _clamp(value: object, bounds: tuple[int, int]) -> int | None:
    return clamp(value, bounds) if type(value) is int else None


_HANDSHAKE = ("http_headers", "http_request_data", "http_response_data", "http_status_line",
              "http_request_uri", "http_request_path", "http_request_params", "http_request_host",
              "websocket_origin")


class WebChannel(WebSocketServerProtocol):
    """Autobahn's side of one connection: it hands every event to its door
    (made when the handshake is accepted, L{WebDoorFactory.door_for})."""

    door: WebDoor | None = None
    # Autobahn warns of every client that breaks the protocol or does not
    # answer a close, one line each and at any rate: the door says what a
    # browser did once, within its log's limit (L{onClose}).
    log = txaio.make_logger(level="error")

    def onConnect(self, request):  # noqa: N802 (autobahn's names)
        self.door = self.factory.door_for(self, request)
        return None  # no subprotocol

    def onOpen(self) -> None:  # noqa: N802
        # What autobahn keeps of the handshake, unused once open (1.5 KB a
        # browser), and its queue for synchronous sends, which we never make
        # (a deque's first block is 0.7 KB): an empty tuple says "none waits".
        for name in _HANDSHAKE:
            setattr(self, name, None)
        self.send_queue = ()
        if self.door is not None:
            self._guarded(self.door.opened)

    def onMessage(self, payload: bytes, isBinary: bool) -> None:  # noqa: N802, N803
        if self.door is not None:
            self._guarded(self.door.received, payload, isBinary)

    def _guarded(self, call: Callable[..., None], *args: object) -> None:
        """Autobahn would swallow an error here without a word: say it, and
        drop the connection rather than leave it half working."""
        try:
            call(*args)
        except Exception:
            log.failure("Unexpected error in the browser door for {ip}", ip=self.door.peer[0])
            self.door.abort("internal error")

    def onClose(self, wasClean: bool, code: int | None, reason: str | None) -> None:  # noqa: N802, N803
        if self.failedByMe and self.door is not None:  # a bad frame: its close code went out
            self.door.failed(self.localCloseCode, self.localCloseReason or "")
        if self.door is not None:
            self.door.lost(reason or ("connection lost" if code is None else f"closed ({code})"))


@implementer(IPushProducer)
class WebDoor(ConnectionSocket, TerminalDoor):
    """One browser, speaking application bytes to a L{DoorApplication}.

    Until the WebSocket is open there is nothing to say; then the session
    is connected, told the terminal type and that we echo.  A refused
    browser (a banned address) gets its one line and the close instead of
    a session.  Output written during a turn of the reactor goes out in one
    write at its end (L{bbs.turns}), a message for each write.
    """

    kind = "web"
    authenticates = False  # login: asks
    prepare = staticmethod(to_web)
    character_mode = True  # xterm.js sends keys as typed and shows what we echo
    negotiates = False  # and has no echo of its own to turn off
    terminal_type = TERMINAL

    __slots__ = (
        "app", "peer", "host", "window", "limits", "clock", "transport",
        "_channel", "_admission", "_refused", "_turns", "_batch", "_input", "_unpause", "_windows",
        "_paused", "_pending", "_closing", "_lost", "_reason",
        "_log_limit",
    )

    def __init__(self, channel: WebChannel, *, admit: Callable[[str], str | None],
                 make_app: Callable[[], DoorApplication], peer: tuple[str, int],
                 clock: IReactorTime, turns: TurnEnd, limits: WebLimits,
                 log_limit: RateLimit) -> None:
        self._start_terminal(clock, turns, limits, log_limit)
        self.peer = peer
        self.host = ("", 0)  # known once open
        self.window = (80, 24)
        self._channel = channel
        self._admission = (admit, make_app)
        self._paused = False
        self._pending = 0
        self._refused = False

    # -- from the channel

    def opened(self) -> None:
        """The handshake is done: let the browser in (a session) or say why not.

        Admission comes now, not at the handshake, so that a browser counts
        against the limits exactly while it has a session.
        """
        transport = self.transport = self._channel.transport
        transport.unregisterProducer()  # the web server's, before the upgrade
        transport.registerProducer(self, True)
        self.host = self._attach(self.limits)  # its socket: sent on directly (L{bbs.sockets})
        admit, make_app = self._admission
        refusal = admit(self.peer[0])
        if refusal is not None:
            self._refused = True
            self._log("Browser {ip} refused: {why}", why=refusal)
            self.close(refusal)
            return
        app = self.app = make_app()
        app.door_connected(self)
        if not self._closing:
            app.door_ttype(TERMINAL)
        if not self._closing:
            app.door_echo(True)

    def received(self, payload: bytes, binary: bool) -> None:
        if self._closing or self.app is None:
            return
        self._metered(len(payload))
        if binary:
            if payload:
                self.app.door_data(typed(payload))
        else:
            self._control(payload)

    def failed(self, code: int | None, reason: str) -> None:
        """The browser broke the protocol (a bad frame, one too big, text
        that is not UTF-8) and was closed with C{code}: said once."""
        self._log("Browser {ip} closed with {code}: {reason}", code=code, reason=reason)
        if self._reason is None:
            self._reason = f"protocol error: {reason}"

    # -- IPushProducer: the transport tells us whether the browser reads

    def pauseProducing(self) -> None:
        self._paused = True

    def resumeProducing(self) -> None:
        self._paused = False
        self._pending = 0

    def stopProducing(self) -> None:
        self._closing = True

    # -- the Door

    def request_echo(self, on: bool) -> bool:
        return False  # we echo always, and never a secret

    def keepalive(self) -> None:
        """A ping: a browser gone without a word is found as a telnet client
        is, by the kernel, when it does not acknowledge it within
        L{WebLimits.dead_peer} (C{TCP_USER_TIMEOUT}, L{bbs.sockets})."""
        if not self._closing:
            self._channel.sendPing()

    def _hang_up(self) -> None:
        if self._refused:
            # As telnet's refusal, one write and hang up: a flood of refused
            # browsers is not kept waiting for their answers to the close.
            self._close_frame(CLOSE_POLICY, self._reason)
            self._channel.dropConnection(abort=False)
        else:
            self._close_frame(CLOSE_NORMAL, self._reason)

    def _drop(self) -> None:
        self._channel.dropConnection(abort=True)

    # -- inside

    def _deliver(self, wire: bytes) -> None:
        if self._paused:
            self._pending += len(wire)
            if self._pending > self.limits.pending_output:
                self._log("Browser {ip} is not reading; dropping it")
                self.abort("output queue full")
                return
        if self._channel.state == OPEN:  # not after a close frame, ours or the browser's
            self._put(wire)

    def _reading(self, on: bool) -> None:
        transport = self._channel.transport
        transport.resumeProducing() if on else transport.pauseProducing()

    def _control(self, payload: bytes) -> None:
        try:
            message = json.loads(payload)
        except ValueError:
            message = None
        if not isinstance(message, dict) or message.get("type") != "resize":
            self._log("Browser {ip} sent a control message we do not know")
            self._reason = "unknown control message"
            self._close_frame(CLOSE_UNSUPPORTED, self._reason)
            self._closing = True
            return
        width = _clamp(message.get("cols"), WIDTH_RANGE)
        height = _clamp(message.get("rows"), HEIGHT_RANGE)
        if width is None or height is None:
            return  # a resize without a size: nothing to pass on
        self._offer_window((width, height))

    def _close_frame(self, code: int, reason: str) -> None:
        # Autobahn's sendClose takes 1000 and 3000-4999 only; the codes that
        # say why (RFC 6455 7.4.1) go through the frame call it makes.
        self._channel.sendCloseFrame(code=code, reasonUtf8=reason.encode("utf-8")[:123],
                                     isReply=False)
