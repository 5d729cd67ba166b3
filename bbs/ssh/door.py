"""One SSH connection as a L{bbs.door.Door}: the session behind it sees a
terminal, as behind telnet and the browser.

The door is made with the connection (L{bbs.ssh.factory}) and lives as long
as it: it admits the client (the same limits and bans as the other doors;
a refused client is told why in the SSH disconnect message, which
OpenSSH's client prints), answers the user authentication by asking its
session (L{bbs.door.DoorApplication.door_password}, C{door_key}), and then
carries one session channel (L{SessionChannel}): its pty request gives the
terminal type and window, C{shell} starts the chat, C{exec} a command.  No
other channel (forwarding, agent, X11, sftp) is opened.

Output written during a turn of the reactor goes out as one channel write
at its end (L{bbs.turns}); before the session channel is open it waits,
within L{SSHLimits.pending_output}.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import attrs
from twisted.conch import error as conch_error
from twisted.conch.interfaces import IConchUser
from twisted.conch.ssh import keys, session
from twisted.conch.ssh.channel import SSHChannel
from twisted.conch.ssh.common import getNS
from twisted.conch.ssh.transport import DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT
from twisted.cred.credentials import ISSHPrivateKey, IUsernamePassword
from twisted.cred.error import UnauthorizedLogin
from twisted.internet.defer import Deferred, fail
from twisted.internet.interfaces import IReactorTime
from twisted.logger import Logger

from bbs.door import DoorApplication, Variable
from bbs.doors import TerminalDoor, TerminalLimits, clamp, crlf, typed
from bbs.rates import RateLimit
from bbs.ssh.hassh import KexInit, kex_event_fields
from bbs.turns import TurnEnd


WIDTH_RANGE = (20, 500)
HEIGHT_RANGE = (5, 500)


@attrs.frozen
class SSHLimits(TerminalLimits):
    """Bounds on what one SSH client can make us hold or compute: those of
    every terminal door (input, output waiting for a client that does not
    read or has not opened its session yet, window sizes), and

    @ivar handshake: Seconds for the key exchange and authentication.
    @ivar auth_attempts: Failed authentications before the connection is closed.
    @ivar channels: Channel requests refused before the connection is closed.
    @ivar variables: Environment variables taken from one client.
    """

    handshake: float = 60.0
    auth_attempts: int = 6
    channels: int = 10
    variables: int = 32


def to_ssh(data: bytes) -> bytes:
    """Application bytes to what a pty's terminal is sent: CR LF line ends."""
    return crlf(data)


def _text(raw: bytes) -> str:
    return raw.decode("utf-8", "replace")


class SSHDoor(TerminalDoor):
    """One SSH connection, speaking application bytes to a L{DoorApplication}."""

    kind = "ssh"
    authenticates = True  # the user authentication asks, not login:
    prepare = staticmethod(to_ssh)
    negotiates = False
    terminal_type: str | None = None

    def __init__(self, transport: Any, *, admit: Callable[[str], str | None],
                 make_app: Callable[[], DoorApplication], peer: tuple[str, int],
                 host: tuple[str, int], clock: IReactorTime, turns: TurnEnd,
                 limits: SSHLimits, log_limit: RateLimit) -> None:
        self._start_terminal(clock, turns, limits, log_limit)
        self.transport = transport  # our SSHTransport
        self.peer = peer
        self.host = host
        self.window = (80, 24)
        self.channel: SessionChannel | None = None
        self.conn: Any = None  # the connection service, once authenticated (conch sets it)
        self._admission = (admit, make_app)
        self._refusal: str | None = None
        self._early: list[bytes] = []  # written before the session channel opened
        self._early_size = 0
        self._pty = False
        self._started = False  # a shell or a command was asked for
        self._begun = False  # and the session has begun it
        self._exec = False
        self._eof = False  # the client's input ended before that
        self._variables = 0
        self._refused_channels = 0

    # -- the connection

    def connected(self) -> None:
        """The TCP connection is up: let the client in (a session) or not."""
        admit, make_app = self._admission
        self._refusal = admit(self.peer[0])
        if self._refusal is None:
            self.app = make_app()
            self.app.door_connected(self)

    # -- what the transport hears (bbs.ssh.transport.TransportListener)

    def ssh_version(self, version: str) -> None:
        if self.app is not None:
            self.app.door_event("cowrie.client.version", f"Remote SSH version: {version}",
                                {"version": version})

    def ssh_kex(self, kexinit: KexInit, algorithms: str, hassh: str) -> None:
        if self._refusal is not None:
            # A refused client is told why in the one message it reads now,
            # as telnet's gets its one line: OpenSSH prints it.
            self.transport.sendDisconnect(DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT,
                                          self._refusal.encode("utf-8"))
            return
        if self.app is not None:
            self.app.door_event("cowrie.client.kex", f"SSH client hassh fingerprint: {hassh}",
                                kex_event_fields(kexinit))

    def ssh_refused(self, reason: str) -> None:
        if self._reason is None:
            self._reason = reason

    # -- user authentication (as conch's portal: bbs.ssh.services.UserAuth)

    def login(self, credentials: Any, mind: object, *interfaces: Any) -> Deferred:
        """Whether the client may come in: its session decides."""
        if self.app is None or self._closing:
            return fail(UnauthorizedLogin("closing"))
        user = _text(credentials.username)
        if IUsernamePassword.providedBy(credentials):
            password = credentials.password
            d = self.app.door_password(user, None if password is None else _text(password))
        elif ISSHPrivateKey.providedBy(credentials):
            if credentials.signature is not None:
                try:
                    key = keys.Key.fromString(credentials.blob)
                    signed = key.verify(credentials.signature, credentials.sigData)
                except Exception:  # noqa: BLE001 - a key conch parsed but cannot use
                    signed = False
                if not signed:
                    return fail(UnauthorizedLogin("bad signature"))
            d = self.app.door_key(user, credentials.blob, credentials.signature is not None)
            if credentials.signature is None:
                d.addCallback(_valid_key)
        else:
            return fail(UnauthorizedLogin("unknown method"))
        return d.addCallback(self._logged_in)

    def _logged_in(self, ok: bool) -> tuple[Any, SSHDoor, Callable[[], None]]:
        if not ok:
            raise UnauthorizedLogin("refused")
        return IConchUser, self, _nothing

    # -- the session channel (bbs.ssh.services.Connection opens it)

    def open_channel(self, kind: bytes, window: int, packet: int) -> SessionChannel:
        """The channel a client asked for, or a L{conch_error.ConchError} why not."""
        if kind != b"session" or self.channel is not None:
            self._refused_channels += 1
            if self._refused_channels > self.limits.channels:
                self._reason = "too many channel requests"
                self.transport.sendDisconnect(DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT,
                                              b"too many channel requests")
            what = "one session" if kind == b"session" else _text(kind)[:40]
            raise conch_error.ConchError(f"{what}: not on this server", 1)
        self.channel = SessionChannel(self, remoteWindow=window, remoteMaxPacket=packet,
                                      conn=self.conn)
        return self.channel

    def pty(self, term: str, width: int, height: int) -> bool:
        if self._started:
            return False
        self._pty = True
        self.terminal_type = term[:64] or None
        self.window = (clamp(width or 80, WIDTH_RANGE), clamp(height or 24, HEIGHT_RANGE))
        if self.app is not None:
            if self.terminal_type:
                self.app.door_ttype(self.terminal_type)
            self.app.door_window(*self.window)
        return True

    def resized(self, width: int, height: int) -> None:
        self._offer_window((clamp(width, WIDTH_RANGE), clamp(height, HEIGHT_RANGE)))

    def variable(self, name: str, value: str) -> bool:
        self._variables += 1
        if self._variables <= self.limits.variables and self.app is not None:
            self.app.door_environ((Variable(name[:64], value[:256]),))
        return False  # logged, never set

    def start(self, command: str | None) -> bool:
        """C{shell} (C{None}) or C{exec}: what the client opened its channel for."""
        if self._started or self.app is None:
            return False
        self._started = True
        self._exec = command is not None
        if command is None:
            self.app.door_echo(self._pty)
        self.clock.callLater(0, self._begin, command)  # after conch's answer to the request
        return True

    def _begin(self, command: str | None) -> None:
        if self._closing or self.app is None:
            return
        self._begun = True
        early, self._early = self._early, []
        self._early_size = 0
        for wire in early:
            self._deliver(wire)
        if command is None:
            self.app.door_shell()
        else:
            self.app.door_exec(command)
        if self._eof:
            self.ended_input()

    def received(self, data: bytes) -> None:
        if self._closing or self.app is None or not self._started:
            return
        self._metered(len(data))
        self.app.door_data(typed(data))

    def ended_input(self) -> None:
        """The client will type no more (EOF): a command still gets its
        answer (the session ends it); a chat session ends."""
        if not self._begun:
            self._eof = True
        elif not self._exec:
            self.close(None)

    def channel_closed(self) -> None:
        self.channel = None
        self._closing = True
        self.transport.loseConnection()

    # -- the Door

    @property
    def character_mode(self) -> bool:
        return self._pty

    def request_echo(self, on: bool) -> bool:
        return False  # a pty's client leaves echo to us, always

    def keepalive(self) -> None:
        if not self._closing:
            self.transport.sendIgnore(b"")

    def _hang_up(self) -> None:
        if self.channel is None or not self._started:
            # Not yet in: the reason goes in the disconnect message.
            self.transport.sendDisconnect(DISCONNECT_HOST_NOT_ALLOWED_TO_CONNECT,
                                          self._reason.encode("utf-8"))
            return
        self.channel.finish()

    def _drop(self) -> None:
        self.transport.transport.abortConnection()

    # -- inside

    def _deliver(self, wire: bytes) -> None:
        channel = self.channel
        if channel is None or not self._started:
            self._early.append(wire)
            self._early_size += len(wire)
            if self._early_size > self.limits.pending_output:
                self._log("SSH client {ip} did not open a session; dropping it")
                self.abort("output queue full")
            return
        channel.write(wire)
        if len(channel.buf) > self.limits.pending_output:
            self._log("SSH client {ip} is not reading; dropping it")
            self.abort("output queue full")

    def _reading(self, on: bool) -> None:
        tcp = self.transport.transport
        tcp.resumeProducing() if on else tcp.pauseProducing()


def _valid_key(ok: bool) -> bool:
    """A key offered without a signature: conch answers C{PK_OK} for this error."""
    if ok:
        raise conch_error.ValidPublicKey()
    return False


def _nothing() -> None:
    pass


class SessionChannel(SSHChannel):
    """The one session channel of a connection: its requests go to the door."""

    name = b"session"
    _log = Logger(observer=lambda event: None)  # conch's per-channel lines

    def __init__(self, door: SSHDoor, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.door = door

    def request_pty_req(self, data: bytes) -> bool:
        term, (rows, cols, _, _), _ = session.parseRequest_pty_req(data)
        return self.door.pty(_text(term), cols, rows)

    def request_window_change(self, data: bytes) -> bool:
        rows, cols, _, _ = session.parseRequest_window_change(data)
        self.door.resized(cols, rows)
        return True

    def request_env(self, data: bytes) -> bool:
        name, rest = getNS(data)
        value, _ = getNS(rest)
        return self.door.variable(_text(name), _text(value))

    def request_shell(self, data: bytes) -> bool:
        return self.door.start(None)

    def request_exec(self, data: bytes) -> bool:
        command, _ = getNS(data)
        return self.door.start(_text(command))

    def dataReceived(self, data: bytes) -> None:  # noqa: N802 (conch's names)
        self.door.received(data)

    def eofReceived(self) -> None:  # noqa: N802
        self.door.ended_input()

    def closed(self) -> None:
        self.door.channel_closed()

    def finish(self) -> None:
        """The session ended: exit status 0, then close once the output is out."""
        self.conn.sendRequest(self, b"exit-status", b"\x00\x00\x00\x00")
        self.loseConnection()
