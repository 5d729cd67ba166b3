"""The telnet protocol without I/O: bytes in, events and reply bytes out.

Our own incremental parser rather than L{twisted.conch.telnet}: that one
raises on C{IAC EOF} (Ctrl-D in netkit telnet) and on C{IAC SB IAC SE}, holds
back a CR that ends a packet, and leaks unhandled Deferred errors from its
negotiations -- all of which bots and old clients trigger daily.

L{TelnetParser} holds everything that is a rule of the protocol: the RFC 854
state machine, the option tables (RFC 1143, L{bbs.telnet.options}), the
CR/LF/NUL rules, the subnegotiation bound, the negotiation-storm bound,
foreign protocols told by their first bytes, NAWS, TTYPE and NEW-ENVIRON.
It has no transport, clock or socket (the time comes in with the bytes), so
it is tested on its own; L{bbs.telnet.protocol} is the Twisted adapter that
feeds it and acts on its events (limits that need a clock, timers, closing).
Nothing here waits for a negotiation answer: bots never answer, and people
must not wait for their client to make up its mind.
"""

from __future__ import annotations

import re
import typing

from bbs.telnet import environ
from bbs.telnet.fingerprint import MiraiAnswers, Verdict
from bbs.telnet.limits import TelnetLimits
from bbs.telnet.options import BINARY, ECHO, NAWS, NEW_ENVIRON, SGA, TTYPE, Q, Side

# Commands (RFC 854, RFC 1184 for EOF/SUSP/ABORT, RFC 885 for EOR).
EOF, SUSP, ABORT, EOR = 236, 237, 238, 239
SE, NOP, DM, BRK, IP, AO, AYT, EC, EL, GA, SB = range(240, 251)
WILL, WONT, DO, DONT, IAC = 251, 252, 253, 254, 255
NUL, LF, CR = 0, 10, 13
TTYPE_IS, TTYPE_SEND = 0, 1

# Commands that stand for a key: what a character-mode client would have sent.
_COMMAND_KEYS = {IP: b"\x03", EC: b"\x7f", EL: b"\x15", EOF: b"\x04"}

# Options we agree to perform ourselves (DO x) and to let the client perform
# (WILL x).  Everything else, LINEMODE included, is refused.  NEW-ENVIRON is
# let on to hear (and log) what the client sends, never to use it.
_OURS = frozenset((ECHO, SGA, BINARY))
_THEIRS = frozenset((BINARY, NAWS, TTYPE, NEW_ENVIRON))
_ENVIRON_SEND = bytes((IAC, SB, NEW_ENVIRON, environ.SEND, IAC, SE))
_TTYPE_SEND = bytes((IAC, SB, TTYPE, TTYPE_SEND, IAC, SE))
_OFF = Side()

WIDTH_RANGE = (20, 500)
HEIGHT_RANGE = (5, 500)

# Parser states.
_DATA, _COMMAND, _OPTION, _SUB, _SUB_IAC = range(5)
_CR_NUL = re.compile(b"[\x00\r]")
# A terminal type is a name from a short alphabet (RFC 1091, terminfo):
# "xterm-256color", "VT100", "DEC-VT220", "screen.xterm", "vt100+fnkeys",
# "ansi_bbs".  Everything else a client sends there is dropped, so that what
# reaches the event log, the colour choice or a sysop's screen is a name.
_TTYPE_KEPT = frozenset(b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789/._+-")
_NOT_TTYPE = bytes(b for b in range(256) if b not in _TTYPE_KEPT)

# What other protocols open with.  Their clients speak first and never send
# IAC, so the first application bytes of a connection tell them apart.
_FOREIGN = (
    (b"GET ", "http"),
    (b"POST ", "http"),
    (b"HEAD ", "http"),
    (b"PUT ", "http"),
    (b"OPTIONS ", "http"),
    (b"CONNECT ", "http"),
    (b"\x16\x03", "tls"),
    (b"SSH-", "ssh"),
)
_FOREIGN_FIRST = frozenset(signature[0] for signature, _ in _FOREIGN)


class ParserListener(typing.Protocol):
    """What a L{TelnetParser} tells: one method per event, called as it happens.

    Every event comes after the application bytes that came before it on
    the wire (L{app_data} first), and none comes once the parser is stopped.
    """

    def app_data(self, data: bytes) -> None:
        """Application bytes; every line end arrives as one C{b"\\n"}."""

    def reply(self, wire: bytes) -> None:
        """Bytes to send to the client (negotiation answers and requests)."""

    def negotiation_started(self) -> None:
        """The client sent its first option command: a telnet client."""

    def window_changed(self, width: int, height: int) -> None:
        """The window size (NAWS), clamped: changed, or reported the first time."""

    def ttype_received(self, name: str) -> None:
        """The client's first terminal type: letters, digits and C{/._+-} only."""

    def echo_changed(self, server_echoes: bool) -> None:
        """The client accepted (C{True}) or refused/ended our ECHO."""

    def environ_received(self, variables: tuple[environ.Variable, ...]) -> None:
        """Variables the client sent (NEW-ENVIRON), to log; never to act on."""

    def signalled(self, name: str) -> None:
        """Behaviour worth telling bots by (each name once), e.g. C{"nul-line-end"}."""

    def are_you_there(self) -> None:
        """C{IAC AYT}: answering is the listener's (at a rate it chooses)."""

    def protocol_error(self, detail: str, line: str) -> None:
        """The client broke the protocol; C{line} is what to tell it on closing."""

    def foreign_protocol(self, name: str, head: bytes) -> None:
        """The client speaks C{name} (C{"http"}, C{"tls"}, C{"ssh"}), not telnet."""


class TelnetParser:
    """One connection's telnet protocol state: bytes in (L{feed}), events out.

    Events are method calls on a L{ParserListener}, not event objects: a
    plain line of text, the common case by far, then costs one call and no
    allocation beyond the bytes handed on.  The listener may L{stop} the
    parser from inside any event (the application acted on a line and
    closed): nothing after it is acted on.

    There is one input path.  The data state's inner loop takes the text
    between IACs: text with no NUL and CRs only in CR LF is handed on at
    once, without copying (a packet of plain lines is handed on as it came);
    a whole C{IAC WILL/WONT/DO/DONT option} is handled in place; anything
    else goes through the byte-level states.

    @ivar window: C{(width, height)}, C{(80, 24)} until the client says.
    @ivar terminal_type: The client's first TTYPE answer, or C{None}.
    """

    __slots__ = (
        "_answers",
        "_app_data",
        "_commands",
        "_cr",
        "_him",
        "_limits",
        "_listener",
        "_now",
        "_received",
        "_signalled",
        "_sized",
        "_sniff",
        "_state",
        "_stopped",
        "_sub",
        "_ttype_asked",
        "_us",
        "_verb",
        "terminal_type",
        "window",
    )

    def __init__(self, listener: ParserListener, limits: TelnetLimits = TelnetLimits()) -> None:
        self._listener = listener
        # The event of nearly every packet, looked up once.
        self._app_data = listener.app_data
        self._limits = limits
        self._us: dict[int, Side] = {}
        self._him: dict[int, Side] = {}
        self._state = _DATA
        self._verb = 0
        # Bytes, not bytearrays, so that a connection holds none of its own
        # until it needs them (thousands are connected at once).
        self._sub = b""
        self._cr = False  # the last data byte was a CR: drop a following LF/NUL
        self._received = b""  # parsed application bytes not yet handed on
        self._sniff: bytes | None = b""  # first bytes, until told apart
        self._commands = 0  # option commands received
        self._ttype_asked = False
        self._signalled: set[str] | None = None  # made at the first signal
        self._answers: MiraiAnswers | None = None  # while the first answers are judged
        self._now = 0.0
        self._stopped = False
        self._sized = False  # a window size came
        self.window: tuple[int, int] = (80, 24)
        self.terminal_type: str | None = None

    # -- state

    @property
    def character_mode(self) -> bool:
        """The client accepted our ECHO: it sends each key as typed and we echo."""
        return self._us.get(ECHO, _OFF).enabled

    @property
    def negotiates(self) -> bool:
        """Whether the client has sent any option command: a telnet client,
        not netcat (which shows our requests as junk and never answers)."""
        return self._commands > 0

    @property
    def binary(self) -> bool:
        """Binary transmission (RFC 856) is on in either direction."""
        return self._us.get(BINARY, _OFF).enabled or self._him.get(BINARY, _OFF).enabled

    # -- driving it

    def opening(self) -> bytes:
        """What to send first: our requests (echo and go-ahead suppression
        from us, window size and terminal type from them)."""
        us, him, asking = _OPENING
        self._us, self._him = dict(us), dict(him)
        return asking

    def feed(self, data: bytes, now: float) -> None:
        """Parse the bytes of one read; C{now} is the time they came, in
        seconds (how fast the first answers came tells a bot)."""
        self._now = now
        i, end = 0, len(data)
        while i < end and not self._stopped:
            state = self._state
            if state == _DATA:
                if self._cr:
                    i = self._after_cr(data, i)
                    continue
                iac = data.find(b"\xff", i)
                stop = end if iac < 0 else iac
                if stop > i:
                    text = data if not i and stop == end else data[i:stop]
                    # (A byte is looked for with find: see to_wire.)
                    if text.find(b"\x00") < 0 and (
                            text.find(b"\r") < 0
                            or (text := text.replace(b"\r\n", b"\n")).find(b"\r") < 0):
                        if self._sniff is None and not self._received:
                            self._app_data(text)  # the usual packet: a line, as it came
                        else:  # after first bytes held back, or an IAC IAC
                            self._emit(text)
                    else:
                        self._text(data, i, stop)
                    if iac < 0 or self._stopped:
                        break
                # At an IAC.  What came before a command reaches the app
                # first, so that if it ends the session (Ctrl-D, /quit)
                # nothing after it is acted on, however the bytes were packed.
                self._cr = False  # a CR just before it swallows nothing after it
                self._end_sniff()
                self._deliver()
                if iac + 2 < end and WILL <= data[iac + 1] <= DONT:
                    if self._stopped:
                        break
                    # A whole negotiation, the usual command: at once.
                    self._negotiate(data[iac + 1], data[iac + 2])
                    i = iac + 3
                else:
                    self._state = _COMMAND
                    i = iac + 1
            elif state == _COMMAND:
                self._state = _DATA
                self._command(data[i])
                i += 1
            elif state == _OPTION:
                self._state = _DATA
                self._negotiate(self._verb, data[i])
                i += 1
            elif state == _SUB:
                j = data.find(b"\xff", i)
                stop = end if j < 0 else j
                if len(self._sub) + stop - i > self._limits.subnegotiation:
                    self._sub_too_long()
                    return
                self._sub += data[i:stop]
                if j < 0:
                    break
                i = j + 1
                self._state = _SUB_IAC
            else:  # _SUB_IAC
                byte = data[i]
                i += 1
                if byte == IAC:
                    if len(self._sub) >= self._limits.subnegotiation:
                        self._sub_too_long()
                        return
                    self._sub += b"\xff"
                    self._state = _SUB
                elif byte == SE:
                    self._state = _DATA
                    sub, self._sub = self._sub, b""
                    self._subnegotiation(sub)
                else:
                    # IAC <command> cuts the subnegotiation short; obey the
                    # command, as a lenient client would.
                    self._sub = b""
                    self._state = _DATA
                    self._command(byte)
        if self._received:
            self._deliver()

    def stop(self) -> None:
        """Act on nothing more: the connection is closing."""
        self._stopped = True
        self._received = b""

    def held(self) -> bytes:
        """The first bytes held back until told apart from another protocol,
        and hold them no more: the client left before they could be."""
        held, self._sniff = self._sniff, None
        return held or b""

    def signal(self, name: str) -> None:
        """Tell the listener of a behaviour, once per name (the adapter's
        own, such as C{"no-negotiation"}, go through here too)."""
        if self._signalled is None:
            self._signalled = set()
        if name not in self._signalled:
            self._signalled.add(name)
            self._deliver()
            if not self._stopped:
                self._listener.signalled(name)

    def request_echo(self, on: bool) -> bool:
        """Offer (or withdraw) to echo, e.g. around a password prompt.

        @return: whether this changed where echo is headed: C{False} if it
            is on (off) already or being asked for, as our first offer is
            until the client answers.  A request made while the opposite one
            is unanswered goes out when it is answered (RFC 1143).
        """
        was = self._us.get(ECHO, _OFF).headed_on
        wire = _ask(self._us, ECHO, True, on)
        if wire:
            self._listener.reply(wire)
        return self._us[ECHO].headed_on != was

    # -- input

    def _text(self, data: bytes, i: int, stop: int) -> None:
        """Text up to C{stop} (no IAC in it) with a NUL or a lone CR: byte rules."""
        search = _CR_NUL.search
        while i < stop and not self._stopped:
            if self._cr:
                i = self._after_cr(data, i)
                continue
            match = search(data, i, stop)
            if match is None:
                self._emit(data[i:stop])
                return
            j = match.start()
            if j > i:
                self._emit(data[i:j])
            i = j + 1
            if data[j] == CR:
                self._emit(b"\n")
                self._cr = True
            else:
                self._nul()

    def _after_cr(self, data: bytes, i: int) -> int:
        """Past the byte at C{i}, which follows a CR, if it is part of that
        line end (CR LF, CR NUL); where the text goes on."""
        self._cr = False
        byte = data[i]
        if byte == LF:
            return i + 1
        if byte == NUL:
            self._nul()
            return i + 1
        return i

    def _emit(self, data: bytes) -> None:
        """Queue application bytes, first holding them until told apart."""
        sniff = self._sniff
        if sniff is not None:
            sniff += data
            verdict = _foreign(sniff)
            if verdict is None:
                self._sniff = sniff
                return
            self._sniff = None
            if verdict:
                self._listener.foreign_protocol(verdict, sniff)
                return
            data = sniff
        self._received += data

    def _end_sniff(self) -> None:
        # A client that sends IAC is a telnet client, whatever follows.
        if self._sniff is not None:
            self._received += self._sniff
            self._sniff = None

    def _deliver(self) -> None:
        """Hand on the application bytes parsed so far."""
        if self._received and not self._stopped:
            data, self._received = self._received, b""
            self._app_data(data)

    def _nul(self) -> None:
        # Dropped either way; only its use as a line end is telling: netkit
        # telnet sends CR NUL in character mode, bots send it in line mode.
        if not self.character_mode:
            self.signal("nul-line-end")

    def _command(self, byte: int) -> None:
        """Handle the byte after an IAC (state already reset to data)."""
        if byte == IAC:
            self._emit(b"\xff")
        elif byte >= WILL:
            self._verb = byte
            self._state = _OPTION
        elif byte == SB:
            self._state = _SUB
        elif byte == AYT:
            self._listener.are_you_there()
        elif byte in _COMMAND_KEYS:
            self._emit(_COMMAND_KEYS[byte])
        elif byte < EOF:
            self._deliver()
            self._listener.protocol_error(f"IAC followed by {byte}", "protocol error")
        # NOP, DM, BRK, AO, GA, SUSP, ABORT, EOR and a stray SE mean nothing here.

    def _sub_too_long(self) -> None:
        self._sub = b""
        self._deliver()
        self._listener.protocol_error(f"subnegotiation over {self._limits.subnegotiation} bytes",
                                      "subnegotiation too long")

    # -- options

    def _negotiate(self, verb: int, option: int) -> None:
        self._commands += 1
        if self._commands == 1:
            self._listener.negotiation_started()
            self._answers = MiraiAnswers(self._now)
        if self._answers is not None:
            self._judge_answer((verb, option))
        us = verb in (DO, DONT)
        table = self._us if us else self._him
        old = table.get(option, _OFF)
        new, answer = old.received(verb in (WILL, DO), option in (_OURS if us else _THEIRS))
        if answer is not None and self._commands > self._limits.negotiations:
            return  # a storm: stop answering, only take note of answers
        table[option] = new
        if answer is not None:
            self._listener.reply(_option(us, answer, option))
        if us and option == ECHO and old.state is not new.state:
            if new.enabled:
                self._deliver()
                if not self._stopped:
                    self._listener.echo_changed(True)
            elif new.state is Q.NO:
                self._deliver()
                if not self._stopped:
                    self._listener.echo_changed(False)
        elif not us and option == TTYPE and new.enabled and not self._ttype_asked:
            self._ttype_asked = True
            self._listener.reply(_TTYPE_SEND)
        elif not us and option == NEW_ENVIRON and new.enabled and not old.enabled:
            self._listener.reply(_ENVIRON_SEND)  # RFC 1572: an empty SEND asks for every variable

    def _judge_answer(self, answer: tuple[int, ...]) -> None:
        """Hand one of the first answers to the Mirai fingerprint (L{MiraiAnswers})."""
        verdict = self._answers.seen(answer, self._now)  # type: ignore[union-attr]
        if verdict is not None:
            self._answers = None
            if verdict is Verdict.MIRAI:
                self.signal("mirai-negotiation")

    def _subnegotiation(self, sub: bytes) -> None:
        if not sub:
            return
        option = sub[0]
        if option == NAWS and len(sub) == 5:
            width, height = int.from_bytes(sub[1:3]), int.from_bytes(sub[3:5])
            if self._answers is not None:
                self._judge_answer((NAWS, width, height))
            self._resize(width, height)
        elif option == TTYPE and len(sub) > 1 and sub[1] == TTYPE_IS:
            self._terminal_type(sub[2:])
        elif option == NEW_ENVIRON:
            # Parsed whether or not it was asked for: exploits send it unasked.
            variables = environ.parse(sub[1:])
            if variables:
                self._deliver()
                if not self._stopped:
                    self._listener.environ_received(variables)
        # Other subnegotiations are parsed and ignored.

    def _resize(self, width: int, height: int) -> None:
        # Zero means "unknown" (RFC 1073): keep what we had.
        old_width, old_height = self.window
        window = (
            _clamp(width, WIDTH_RANGE) if width else old_width,
            _clamp(height, HEIGHT_RANGE) if height else old_height,
        )
        if window != self.window or not self._sized:
            self._sized = True  # the first report is passed on, the default size too
            self.window = window
            self._deliver()
            if not self._stopped:
                self._listener.window_changed(*window)

    def _terminal_type(self, raw: bytes) -> None:
        if self.terminal_type is not None:
            return
        name = terminal_type_name(raw, self._limits.ttype_max)
        if name:
            self.terminal_type = name
            self._deliver()
            if not self._stopped:
                self._listener.ttype_received(name)


def terminal_type_name(raw: bytes, limit: int) -> str:
    """What of a TTYPE answer is kept: the characters a terminal name is made
    of (see L{_TTYPE_KEPT}), at most C{limit} of them; C{""} if none."""
    return raw.translate(None, _NOT_TTYPE)[:limit].decode("ascii")


def _foreign(head: bytes) -> str | None:
    """The protocol C{head} opens, C{""} for none, C{None} if too short to tell."""
    if head and head[0] not in _FOREIGN_FIRST:
        return ""  # the usual first bytes, a name or a command: no signature starts so
    undecided = False
    for signature, name in _FOREIGN:
        if head.startswith(signature):
            return name
        if signature.startswith(head):
            undecided = True
    return None if undecided else ""


def _clamp(value: int, bounds: tuple[int, int]) -> int:
    low, high = bounds
    return min(max(value, low), high)


def _option(us: bool, enable: bool, option: int) -> bytes:
    if us:
        verb = WILL if enable else WONT
    else:
        verb = DO if enable else DONT
    return bytes((IAC, verb, option))


def _ask(table: dict[int, Side], option: int, us: bool, enable: bool) -> bytes:
    """Ask for C{option} on our side (C{us}) or theirs; what to send, if anything."""
    side, answer = table.get(option, _OFF).request(enable)
    table[option] = side
    return b"" if answer is None else _option(us, answer, option)


def _opening() -> tuple[dict[int, Side], dict[int, Side], bytes]:
    """What every connection asks for first, and the option states that
    leaves: the same for all, so worked out once."""
    us: dict[int, Side] = {}
    him: dict[int, Side] = {}
    asking = (_ask(us, ECHO, True, True) + _ask(us, SGA, True, True)
              + _ask(him, NAWS, False, True) + _ask(him, TTYPE, False, True))
    return us, him, asking


_OPENING = _opening()
