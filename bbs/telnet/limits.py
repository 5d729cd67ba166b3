"""What one telnet client may make us buffer, compute or send.

One value for the three parts that enforce it: the parser (subnegotiation
size, negotiation storms, terminal type length), the connection (input
rate, pending output, window reports, AYT answers) and the socket options
(buffers, dead peers).
"""

from __future__ import annotations

import attrs


@attrs.frozen
class TelnetLimits:
    """Bounds on what one client can make us buffer, compute or send.

    The defaults are far above what a person or a real client ever needs:
    nobody types 16 KB a second, a 4 KB paste passes untouched, and a real
    terminal answers a handful of negotiations and NAWS reports.

    @ivar subnegotiation: Bytes in one SB; more closes the connection.
    @ivar pending_output: Bytes written while the transport says the client
        is not reading (beyond the transport's own 64 KB buffer); more aborts.
    @ivar negotiations: Option commands answered per connection; later
        ones are only taken note of, never answered.
    @ivar ttype_max: Characters kept of the terminal type.
    @ivar input_rate: Bytes a second a client may send, on average; reading
        from a client that sends faster is paused until it is back within.
    @ivar input_burst: Bytes a client may send at once before that.
    @ivar window_rate: NAWS changes a second reported above, on average; a
        storm is coalesced into the latest size.
    @ivar window_burst: NAWS changes reported at once before that.
    @ivar ayt_rate: C{IAC AYT} answered per second; the rest are ignored.
    @ivar ayt_burst: C{IAC AYT} answered at once before that.
    @ivar socket_buffer: Bytes of kernel send and receive buffer asked for
        (Linux doubles it).  Left to itself the kernel grows them to
        megabytes, which a client that never reads -- or whose reading we
        paused -- would fill; chat needs a few kilobytes a second.
    @ivar dead_peer: Seconds before the kernel drops a connection whose
        peer acknowledges nothing, not what we sent nor keepalive probes:
        a client whose network vanished.  Linux alone takes about 15
        minutes of retransmissions, and a silent connection is never
        probed.  (A client that stops reading with our output waiting is
        dropped after this time too.)
    """

    subnegotiation: int = 4096
    pending_output: int = 256 * 1024
    negotiations: int = 100
    ttype_max: int = 40
    input_rate: int = 16 * 1024
    input_burst: int = 64 * 1024
    window_rate: float = 2.0
    window_burst: int = 4
    ayt_rate: float = 1.0
    ayt_burst: int = 3
    socket_buffer: int = 64 * 1024
    dead_peer: float = 300.0
