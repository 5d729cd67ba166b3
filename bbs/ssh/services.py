"""The SSH services after the key exchange: user authentication and the
connection, each narrowed to what the door allows.

  - L{UserAuth}: public keys, keyboard-interactive and passwords, each
    answered by the connection's door (L{bbs.ssh.door.SSHDoor.login}, in
    the role of conch's portal).  Keyboard-interactive is how a guest comes
    in with no password: its request has no prompt at all (as public SSH
    chat servers do); a registered user or a trapped name is asked
    C{Password:} there.  At most L{bbs.ssh.door.SSHLimits.auth_attempts}
    failures, then the connection is closed.
  - L{Connection}: one session channel; any other channel (port forwarding,
    X11, agent) and every global request (C{tcpip-forward}) refused.

Conch's own log lines for these (a traceback for each refused channel) are
not written: the door logs what matters, once.
"""

from __future__ import annotations

import struct
from typing import Any

from twisted.conch import error as conch_error
from twisted.conch.ssh import connection, userauth
from twisted.conch.ssh.common import NS, getNS
from twisted.cred.credentials import UsernamePassword
from twisted.internet import defer
from twisted.logger import Logger

_QUIET = Logger(observer=lambda event: None)


class UserAuth(userauth.SSHUserAuthServer):
    """Conch's user authentication, asking the door instead of a portal."""

    _log = _QUIET
    passwordDelay = 0  # the session's login throttle paces passwords, as at login:

    def serviceStarted(self) -> None:  # noqa: N802 (conch's names)
        door = self.transport.door
        self.authenticatedWith = []
        self.loginAttempts = 0
        self.user = None
        self.nextService = None
        self.portal = door
        self.attemptsBeforeDisconnect = door.limits.auth_attempts
        self.supportedAuthentications = [b"publickey", b"keyboard-interactive", b"password"]
        self._cancelLoginTimeout = None  # the transport's handshake deadline covers it
        self._pending: defer.Deferred | None = None

    def auth_keyboard_interactive(self, packet: bytes) -> defer.Deferred:
        """RFC 4256: ask what the door needs (nothing for a guest)."""
        if self._pending is not None:
            return defer.fail(conch_error.ConchError("one question at a time"))
        user = self.user
        d = self.portal.login(UsernamePassword(user, None), None)
        d.addErrback(self._ask_password, user)
        return d

    def _ask_password(self, failure: Any, user: bytes) -> defer.Deferred:
        """No way in without a password: ask for one (echo off)."""
        failure.trap(Exception)
        self._pending = defer.Deferred()
        self.transport.sendPacket(
            userauth.MSG_USERAUTH_INFO_REQUEST,
            NS(b"") + NS(b"") + NS(b"") + struct.pack(">L", 1) + NS(b"Password: ") + b"\x00")
        self._pending.addCallback(
            lambda password: self.portal.login(UsernamePassword(user, password), None))
        return self._pending

    def ssh_USERAUTH_INFO_RESPONSE(self, packet: bytes) -> None:  # noqa: N802
        pending, self._pending = self._pending, None
        if pending is None:
            return  # no question asked: ignored
        try:
            (count,) = struct.unpack(">L", packet[:4])
            answers = getNS(packet[4:], count)[:count] if count else []
        except (struct.error, ValueError, IndexError):
            pending.errback(conch_error.ConchError("malformed answer"))
            return
        if len(answers) != 1:
            pending.errback(conch_error.ConchError("no password given"))
            return
        pending.callback(answers[0])

    def serviceStopped(self) -> None:  # noqa: N802
        if getattr(self, "_pending", None) is not None:
            pending, self._pending = self._pending, None
            pending.errback(conch_error.ConchError("connection closed"))
            pending.addErrback(lambda _: None)
        super().serviceStopped()


class Connection(connection.SSHConnection):
    """Conch's connection service: one session channel, nothing forwarded."""

    _log = _QUIET

    def ssh_CHANNEL_OPEN(self, packet: bytes) -> None:  # noqa: N802
        kind, rest = getNS(packet)
        sender, window, maximum = struct.unpack(">3L", rest[:12])
        try:
            channel = self.transport.door.open_channel(kind, window, maximum)
        except conch_error.ConchError as refused:
            reason, code = refused.args
            self.transport.sendPacket(
                connection.MSG_CHANNEL_OPEN_FAILURE,
                struct.pack(">2L", sender, code) + NS(str(reason).encode("utf-8")) + NS(b""))
            return
        local = self.localChannelID
        self.localChannelID += 1
        channel.id = local
        self.channels[local] = channel
        self.channelsToRemoteChannel[channel] = sender
        self.localToRemoteChannel[local] = sender
        self.transport.sendPacket(
            connection.MSG_CHANNEL_OPEN_CONFIRMATION,
            struct.pack(">4L", sender, local, channel.localWindowSize, channel.localMaxPacket))
        channel.channelOpen(b"")

    def gotGlobalRequest(self, requestType: bytes, data: bytes) -> int:  # noqa: N802
        return 0  # no forwarding of any kind; keepalive@openssh.com is answered "no" too
