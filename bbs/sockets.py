"""What the doors do to the sockets under Twisted.

Two jobs that reach below Twisted's public interface, kept here so that
nothing else does (the telnet and browser doors both use them): the
socket options every connection gets (set once on the listening socket
where the system hands them down, L{tune_listener}), and, behind one class
(L{ConnectionSocket}), a connection's own socket: given the options it did
not inherit, and sent on directly when nothing of ours waits in its
transport.

Checked against Twisted 26.10.0: L{ConnectionSocket} reads the private
fields C{dataBuffer} and C{_tempDataLen} of
C{twisted.internet.abstract.FileDescriptor}, and a TCP server transport's
C{server} (its port).  C{tests/test_sockets.py} fails if their shape
changes.
"""

from __future__ import annotations

import functools
import ipaddress
import socket
from typing import Protocol
from weakref import WeakKeyDictionary

from twisted.internet.abstract import FileDescriptor
from twisted.internet.interfaces import IAddress, ITransport

from bbs.accept_log import quiet_accept_loop

KEEPALIVE_PROBES = 5  # unanswered TCP keepalive probes before a silent peer is dead

_Option = tuple[int, int, int]  # (level, option, value) for setsockopt


class SocketLimits(Protocol):
    """What a door's limits say of its sockets (hashable: options are cached per value).

    @ivar socket_buffer: Bytes of kernel send and receive buffer.
    @ivar dead_peer: Seconds before the kernel drops a connection whose
        peer went away without a word.
    """

    @property
    def socket_buffer(self) -> int: ...

    @property
    def dead_peer(self) -> float: ...


def address(address: IAddress) -> tuple[str, int]:
    """C{(ip, port)} of a Twisted address, IPv4-mapped IPv6 shown as IPv4."""
    host = getattr(address, "host", "")
    port = getattr(address, "port", 0)
    if ":" in host:
        try:
            mapped = ipaddress.IPv6Address(host).ipv4_mapped
        except ValueError:
            mapped = None
        if mapped is not None:
            host = str(mapped)
    return host, port


@functools.cache
def _wanted(limits: SocketLimits) -> tuple[_Option, ...]:
    """The socket options every connection gets.

    No Nagle delay (a chat line should leave at once), bounded kernel buffers
    (L{SocketLimits.socket_buffer}), and a dead peer dropped within
    L{SocketLimits.dead_peer}: what we send (a line, the keepalive NOP) may
    go unacknowledged that long (C{TCP_USER_TIMEOUT}), and a silent
    connection is probed from half that time on, five probes in the other
    half (keepalive).  Options this system lacks are left out.
    """
    dead = limits.dead_peer
    size = limits.socket_buffer
    tcp = socket.IPPROTO_TCP
    wanted = [
        (tcp, "TCP_NODELAY", 1),
        (socket.SOL_SOCKET, "SO_SNDBUF", size),
        (socket.SOL_SOCKET, "SO_RCVBUF", size),
        (socket.SOL_SOCKET, "SO_KEEPALIVE", 1),
        (tcp, "TCP_KEEPIDLE", max(1, int(dead / 2))),
        (tcp, "TCP_KEEPINTVL", max(1, int(dead / 2 / KEEPALIVE_PROBES))),
        (tcp, "TCP_KEEPCNT", KEEPALIVE_PROBES),
        (tcp, "TCP_USER_TIMEOUT", int(dead * 1000)),
    ]
    return tuple(
        (level, getattr(socket, name), value)
        for level, name, value in wanted
        if hasattr(socket, name)
    )


class _Listening:
    """What we know of a listening port (L{tune_listener})."""

    __slots__ = ("missing", "host", "limits")

    def __init__(self, host: tuple[str, int] | None, limits: SocketLimits) -> None:
        # Of the options it was given, those accepted sockets do not come
        # with (none, on Linux): None until the first one is looked at.
        self.missing: tuple[_Option, ...] | None = None
        # The local address of every connection, if bound to one address.
        self.host = host
        self.limits = limits  # what its options were made for


_LISTENING: WeakKeyDictionary[object, _Listening] = WeakKeyDictionary()


def tune_listener(port: object, limits: SocketLimits) -> object:
    """Set the connections' socket options on C{port}'s listening socket.

    Linux copies them all to every socket it accepts, which saves eight
    system calls per connection; which ones this system copies is checked
    on the first connection, and the others are set on each one.  A port
    bound to one address also saves asking each connection for its local
    address.  The port's accept loop logs within L{AcceptLog}'s limits.
    """
    quiet_accept_loop(port)
    sock = getattr(port, "socket", None)
    if isinstance(sock, socket.socket):
        try:
            for level, option, value in _wanted(limits):
                sock.setsockopt(level, option, value)
            host = address(port.getHost())  # type: ignore[attr-defined]
        except OSError:
            return port
        wildcard = not host[0] or ipaddress.ip_address(host[0]).is_unspecified
        _LISTENING[port] = _Listening(None if wildcard else host, limits)
    return port


def _tune(transport: object, listening: _Listening | None, limits: SocketLimits) -> None:
    """Give a new connection's socket our options, those it did not come with
    from its port."""
    if listening is not None and listening.limits is not limits \
            and _wanted(listening.limits) != _wanted(limits):
        listening = None  # the connection wants other options than its port has
    if listening is not None and listening.missing == ():
        return  # the usual case: one identity check and one comparison per connection
    sock = _socket_of(transport)
    if sock is None:
        return
    wanted = _wanted(limits)
    if listening is not None:
        if listening.missing is None:
            port_socket = transport.server.socket  # type: ignore[attr-defined]
            listening.missing = _not_inherited(sock, port_socket, wanted)
        wanted = listening.missing
    for level, option, value in wanted:
        try:
            sock.setsockopt(level, option, value)
        except OSError:
            pass


def _not_inherited(sock: socket.socket, port_socket: socket.socket,
                   wanted: tuple[_Option, ...]) -> tuple[_Option, ...]:
    """The options of C{wanted} that C{sock} did not get from C{port_socket}."""
    missing = []
    for level, option, value in wanted:
        try:
            if sock.getsockopt(level, option) == port_socket.getsockopt(level, option):
                continue
        except OSError:
            pass
        missing.append((level, option, value))
    return tuple(missing)


def _socket_of(transport: object) -> socket.socket | None:
    """The socket under C{transport}: under TLS, the wrapped transport's; a
    test transport has none."""
    for _ in range(3):
        handle = getattr(transport, "getHandle", None)
        sock = handle() if handle is not None else None
        if isinstance(sock, socket.socket):
            return sock
        transport = getattr(transport, "transport", None)
    return None


class ConnectionSocket:
    """The socket under one connection: tuned when connected (L{_attach}),
    and sent on directly, past Twisted's buffer (L{_put}).

    Twisted's TCP transport always buffers a write and sends it on the next
    pass of the reactor: two C{epoll_ctl} calls and a poll wake-up per write.
    Our writes already come at the end of a turn (L{bbs.turns}), so when
    nothing of ours is queued in the transport, sending at once keeps the
    order and costs one C{send}.  Only a plain Twisted socket transport,
    whose queue we can see (C{dataBuffer} and C{_tempDataLen}, Twisted
    26.10.0), qualifies; TLS and test transports take the usual path.

    A base class of the connection rather than an object of its own: a room
    flush reads C{_socket} and C{_queued} for each of thousands of members,
    and fields of the connection itself cost no extra cache line.
    """

    __slots__ = ("_queued", "_socket")

    transport: ITransport

    def _attach(self, limits: SocketLimits) -> tuple[str, int]:
        """Look at the transport once, when connected: tune its socket, see
        whether we may send past it, and return the local address (the
        port's, if it is bound to one: no system call)."""
        transport = self.transport
        port = getattr(transport, "server", None)
        listening = _LISTENING.get(port) if port is not None else None
        _tune(transport, listening, limits)
        self._socket = None
        # The transport has output of ours: until it has sent it all, ours
        # goes behind it (and checking costs two more objects per send,
        # cache-cold in a room flush, so we only look while this is set).
        # Set at first, as output may wait there already (a WebSocket's
        # handshake answer): the first send looks.
        self._queued = True
        if isinstance(transport, FileDescriptor) and hasattr(transport, "dataBuffer") \
                and hasattr(transport, "_tempDataLen"):
            handle = getattr(transport, "getHandle", None)
            sock = handle() if handle is not None else None
            if isinstance(sock, socket.socket):
                self._socket = sock
        host = listening.host if listening is not None else None
        return host if host is not None else address(transport.getHost())

    def _put(self, wire: bytes) -> None:
        """Send C{wire} after everything sent before it: to the socket while
        nothing of ours waits in the transport, the rest through the transport."""
        sock = self._socket
        if sock is not None and (not self._queued or self._drained()):
            try:
                sent = sock.send(wire)
            except OSError:  # full (EAGAIN), or broken: the transport finds out itself
                sent = 0
            if sent == len(wire):
                return
            wire = wire[sent:]
        self._queued = True
        self.transport.write(wire)

    def _drained(self) -> bool:
        """Whether the transport has sent all it was given (then we may send past it)."""
        transport = self.transport
        self._queued = bool(transport.dataBuffer or transport._tempDataLen)  # type: ignore[attr-defined]
        return not self._queued
