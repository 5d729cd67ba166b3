"""One connection's life: connect, log in, chat, close.

The session sits between the line editor (below) and the hub and the
command handlers (above).  Every line a user types is handled in the order
typed: a command runs in the worker pool and its Effects are applied here on
the reactor thread before the next line is looked at, so `/join den` then
`hi` says `hi` in den.  A chat line with nothing pending goes straight to the
hub without leaving the reactor thread.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import attrs
from twisted.internet.defer import Deferred, maybeDeferred, succeed
from twisted.logger import Logger
from twisted.python.failure import Failure

from bbs import effects as fx
from bbs.commands import CommandError
from bbs.commands.accounts import identify
from bbs.applying import Applying
from bbs.context import Context, HubView, Sighting
from bbs.door import Door, Variable
from bbs.door_logins import Admitted, DoorLogins
from bbs.durations import format_duration
from bbs.events import make_event
from bbs.guard.bans import describe
from bbs.guard.credentials import Credential, unglue
from bbs.guard.limits import LoginAttempt, MessageLimiter, Verdict
from bbs.guard.policy import outcome
from bbs.guard.traps import SURE, BotScore, Detection
from bbs.honeypot import Honeypot
from bbs.states import CHAT, CLOSED, LOGIN, SHELL
from bbs.hub import LOBBY, Room, notice
from bbs.lines import deliver as _deliver_lines
from bbs.pool import WORKER_ONLY, NeedsWorker, Overloaded, try_here
from bbs.rates import TokenBucket
from bbs.store import HistoryEntry, Refused, StoreError
from bbs.styled import Styled, error
from bbs.terminal.editor import LineEditor
from bbs.text import fold, loggable, sanitize

if TYPE_CHECKING:
    from bbs.seat import Seat

log = Logger()
# Session ids name a connection in the logs (as Cowrie's do); they need to be
# unique, not secret, so they come from a generator seeded once from the
# system's randomness instead of a system call per connection.
_IDS = random.Random()
_NOBODY: frozenset[str] = frozenset()  # whom a session ignores at first: one for all

MAX_PENDING = 32
LOGIN_TRIES = 5
FLOOD_MUTE = 300.0
IDLE_WARNING = 120.0
KEEPALIVE = 120.0
INSTANT = 0.02  # a whole line this soon after the prompt is typed by no person
_SIGNALS = {"no-negotiation": "no-telnet-reply", "nul-line-end": "nul-line-end",
            "protocol-error": "foreign-protocol", "input-flood": "line-burst",
            "mirai-negotiation": "mirai-negotiation"}
# What people never do: a line of someone who did one of these is judged by
# the shell traps even after login, since it is no person chatting.  Mirai's
# handshake is one: no person's telnet client answers as its code does.
_EVIDENCE = frozenset(("no-telnet-reply", "instant-line", "nul-line-end", "mirai-negotiation"))
# A user name and password typed as one line: a credential attempt, not a name.
GLUED = Detection("login-glued-credentials", "mirai", SURE)
SIMPLE_COMMANDS = frozenset(("help", "who", "quit"))
# Terminal types whose emulators understand SGR colour.
_COLOUR_TERMS = ("xterm", "ansi", "screen", "tmux", "linux", "putty", "rxvt",
                 "konsole", "color", "256", "vt220", "cygwin", "syncterm", "mudlet")



class _FlushFirst:
    """What a room flush reads of each member (L{bbs.lines.deliver}): a fast
    path in memory layout only.

    CPython lays a base class's slots out first, so these share a cache line
    with the object header: in a flush to thousands of members, fetching each
    one's fields from memory costs more than the code that uses them.
    C{bench/layout.py} measures it against the same fields in their natural
    order: a flush to 20,000 members takes 1.15-1.19x as long without it.
    """

    __slots__ = ("editor", "ignoring", "door", "shared_key")


class Session(_FlushFirst, Applying, DoorLogins):
    """What sits behind a door (a L{bbs.door.DoorApplication}), the same
    whichever door the user came in by: login, chat and the honeypot.

    Thousands are alive at once, so state is in slots and what most sessions
    never need (a bot score, an ignore list) is made on first use.
    """

    __slots__ = (
        "bbs", "id", "state", "nick", "key", "room", "connected", "last_active",
        "away", "guest", "account", "sysop", "reply_to", "colour_choice",
        "quit_message", "trusted", "muted_until", "muted", "honeypot", "score",
        "_limiter", "_flood_warned", "_idle_warned", "_prompted_at",
        "_keepalive_at", "_shown_prompt", "_closing", "_ttype_colour", "_login_tries",
        "_ask", "_attempt", "_chain", "_pending", "_secret_echo", "_told_echo", "_paces",
        "_whole", "_typed", "admitted",
    )

    def __init__(self, bbs: Seat[Session]) -> None:
        self.bbs = bbs
        self.id = f"{_IDS.getrandbits(48):012x}"
        self.door: Door | None = None
        self.state = LOGIN
        self.nick = ""
        self.key = ""  # fold(nick), kept by the hub
        self.room: Room | None = None
        now = bbs.clock.seconds()
        self.connected = now
        self.last_active = now
        self.away: str | None = None
        self.guest = True
        self.account: str | None = None
        self.sysop = False
        self.ignoring: frozenset[str] = _NOBODY
        self.reply_to: str | None = None
        self.colour_choice: bool | None = None
        self.quit_message = ""
        self.trusted = False
        self.muted_until: float | None = None
        self.muted = False
        self.honeypot: Honeypot | None = None
        self.score: BotScore | None = None
        self._limiter: MessageLimiter | None = None
        self._flood_warned = False
        self._idle_warned = False
        self._prompted_at = now
        self._keepalive_at = now
        self._shown_prompt = ("", False)
        self._closing = False
        self._ttype_colour = False
        self._login_tries = 0
        self._ask: fx.Ask | None = None
        self._attempt: LoginAttempt | None = None  # a password typed, not yet judged
        # A line-mode client let us echo for a secret line only (so it does not).
        self._secret_echo = False
        self._told_echo = False  # that a client without telnet shows secrets
        self._chain: Deferred | None = None  # runs pending commands in order, while there are any
        self._pending = 0
        self._paces: dict[str, TokenBucket] | None = None  # made at the first nick change or move
        # At login: nothing was typed at this prompt before the packet being
        # fed (so a line it ends came whole), and whether anything was.
        self._whole = False
        self._typed = False
        self.admitted: Admitted | None = None  # who an SSH door let in, until its shell
        self.editor = LineEditor(self, clock=bbs.clock)  # we are its EditorOwner

    # -- door application ---------------------------------------------------

    def door_connected(self, door: Door) -> None:
        self.door = door
        self.editor.set_form(door.prepare)
        self.bbs.sessions.add(self)
        ip, port = door.peer
        self.trusted = ip in self.bbs.trusted
        if ip in self.bbs.mutes:
            self.muted, self.muted_until = True, self.bbs.mutes[ip]
        host, host_port = door.host
        self.event(
            "cowrie.session.connect",
            f"New connection: {ip}:{port} ({host}:{host_port})",
            src_port=port, dst_ip=host, dst_port=host_port, protocol=door.kind,
        )
        if door.authenticates:
            return  # no login: the door asks, then opens the shell (DoorLogins)
        if self.bbs.motd is not None:
            self.deliver(self.bbs.motd)
        self._prompt()
        self._prompted_at = self.bbs.clock.seconds()

    def door_data(self, data: bytes) -> None:
        if self.state == LOGIN:
            self._whole, self._typed = not self._typed, True
        self.editor.feed(data)

    def door_window(self, width: int, height: int) -> None:
        self.editor.set_size(width, height)
        self.event("cowrie.client.size", f"Terminal size: {width} {height}",
                   width=width, height=height)

    def door_ttype(self, name: str) -> None:
        self._ttype_colour = any(t in name.lower() for t in _COLOUR_TERMS)
        self._update_colour()
        self.event("cowrie.client.var", f"request_env: TERM={name}", name="TERM", value=name)

    def door_environ(self, variables: tuple[Variable, ...]) -> None:
        """Log what the client sent by NEW-ENVIRON; none of it is ever used."""
        for v in variables:
            value = v.value or ""
            self.event("cowrie.client.var", f"request_env: {v.name}={value}",
                       name=v.name, value=value)
            if v.exploit:
                self.event("cowrie.telnet.exploit_attempt",
                           f"telnetd authentication bypass tried: {v.name}={value}",
                           cve="CVE-2026-24061", name=v.name, value=value)

    def door_echo(self, server_echoes: bool) -> None:
        if self._secret_echo or server_echoes == self.editor.character_mode:
            # An answer about the echo offered for a secret line (line mode
            # stays, the client just does not echo that line), or a refusal
            # of the echo we offered: line mode, as we were.
            return
        self.editor.character_mode = server_echoes
        self._update_colour()
        self._prompt()

    def door_signal(self, name: str) -> None:
        if self.trusted:
            return  # signals only ever count toward a bot's score, and trusted peers are not judged
        signal = _SIGNALS.get(name) or ("foreign-protocol" if name.startswith("foreign") else None)
        if signal is not None:
            self._bot_score().add_signal(signal)

    def door_lost(self, reason: str) -> None:
        if self.state == CLOSED:
            return
        was, self.state = self.state, CLOSED
        self.bbs.sessions.discard(self)
        self.bbs.limiter.release(self.ip)
        if self._attempt is not None:
            self._attempt.abandon()  # never checked: it counts for nothing
        if was == SHELL and self.honeypot is not None:
            self.honeypot.end("disconnect")
        if self.room is not None:
            self.bbs.hub.leave(self, self.quit_message)
            self.event("bbs.user.logout", f"{self.nick} left", nick=self.nick,
                       reason=self.quit_message or reason)
        if self.account is not None and self.bbs.store is not None:
            d = self.bbs.pool.run(self.bbs.store.touch_seen, self.account, self.bbs.clock.seconds())
            d.addErrback(lambda f: log.error("last seen not saved: {e}", e=f.value))
        self.event(
            "cowrie.session.closed", "Connection lost",
            duration=round(self.bbs.clock.seconds() - self.connected, 3),
        )
        self.bbs.ended(self)

    # -- output ---------------------------------------------------------------

    def editor_output(self, text: str) -> None:
        if self.door is not None:
            self._catch_up()
            data = text.encode("utf-8")
            if self.honeypot is not None:
                self.honeypot.sent(data)  # the recording replays what the bot saw
            self.door.write(data)

    def _catch_up(self) -> None:
        """Show what our room said earlier in this turn before anything newer."""
        room = self.room
        if room is not None and room.pending:
            self.bbs.hub.flush_room(room)

    def print(self, message: Styled | str) -> None:
        self.editor.print(message)

    # The hub's one call on a member, with the shared rendering's fast path
    # beside its slow path (see bbs.lines).
    deliver = _deliver_lines

    def _update_colour(self) -> None:
        wanted = self._ttype_colour if self.colour_choice is None else self.colour_choice
        self.editor.colour = wanted and self.editor.character_mode

    @property
    def ip(self) -> str:
        return self.door.peer[0] if self.door is not None else ""

    def event(self, eventid: str, message: str, **fields: Any) -> None:
        bbs = self.bbs
        bbs.events.emit(make_event(
            eventid, fields, session=self.id, src_ip=self.ip, message=message,
            sensor=bbs.config.sensor, when=bbs.clock.seconds(),
        ), limited=not self.trusted)

    # -- input ----------------------------------------------------------------

    def editor_line(self, text: str) -> None:
        """A finished input line, in the order typed."""
        if self.state == CLOSED or self._closing:
            return
        if self.state == LOGIN and self._whole and self._ask is None and not self.trusted \
                and self.bbs.clock.seconds() - self._prompted_at < INSTANT:
            # A whole line in the packet that began it, this soon: nobody types so.
            self._bot_score().add_signal("instant-line")
        if self._pending:
            self._enqueue(lambda: self._dispatch(text))
            return
        d = self._dispatch(text)
        if d is not None:
            self._enqueue(lambda: d)
        self._prompt()

    def _enqueue(self, step: Callable[[], Deferred | None]) -> None:
        """Run C{step} after everything this session has pending."""
        if self._pending >= MAX_PENDING:
            self.print(error("Too many commands waiting; slow down."))
            return
        self._pending += 1

        def run(_: object) -> Deferred:
            d = maybeDeferred(step) if self.state != CLOSED else succeed(None)
            d.addErrback(self._crashed, "line")
            return d

        def done(_: object) -> None:
            self._pending -= 1
            if not self._pending:
                self._chain = None
                self._prompt()

        if self._chain is None:
            self._chain = succeed(None)
        self._chain.addCallback(run).addCallback(done)

    def _dispatch(self, text: str) -> Deferred | None:
        if self._ask is not None:
            return self._answer(text)
        if self.state == SHELL:
            self.honeypot.line(text)
            return None
        if not self.trusted and self._trapped(text.strip()):
            return None
        text = sanitize(text)
        if self.state == LOGIN:
            return self._login(text.strip())
        self.last_active = self.bbs.clock.seconds()
        self.bbs.hub.touch(self)
        self._idle_warned = False
        stripped = text.strip()
        if not stripped or not self._flood_ok():
            return None
        if stripped.startswith("/") and "/" not in stripped.split(None, 1)[0][1:]:
            return self._command(stripped[1:])  # not a path such as /bin/busybox: said
        if stripped.lower() in SIMPLE_COMMANDS:
            return self._command(stripped)
        self._say(fx.Say(text.rstrip()))
        return None

    # -- defences -------------------------------------------------------------

    def _trapped(self, line: str) -> bool:
        """Judge a line against the bot traps; True if the bot was dealt with.

        What is typed at C{login:} is judged; a person's lines in the chat
        are not, unless the connection behaves as no person does (see
        L{_EVIDENCE}).  A rule that is not sure (a common user name such as
        C{user}) needs that evidence too: without it the name is just
        refused, with the reason, by the login.
        """
        traps = self.bbs.traps
        if self.state == LOGIN:
            credential = unglue(line)
            if credential is not None:
                return self._caught(GLUED, line, credential)
            hit = traps.match_login(line) or traps.match_line(line)
            if hit is not None and hit.score < SURE and not self._behaves_like_a_bot():
                return False
        elif self.account is None and self._behaves_like_a_bot():
            hit = traps.match_line(line)
        else:
            hit = None
        return hit is not None and self._caught(hit, line)

    def _behaves_like_a_bot(self) -> bool:
        score = self.score
        return score is not None and not _EVIDENCE.isdisjoint(score.signals)

    def _caught(self, hit: Detection, line: str, credential: Credential | None = None,
                command: str | None = None) -> bool:
        behaviour = self._bot_score()
        family = hit.family if hit.family != "generic" or behaviour.family == "unknown" \
            else behaviour.family
        score = hit.score + behaviour.score
        self.event("bbs.bot.detected", f"bot detected by rule {hit.rule}: {line[:80]}",
                   rule=hit.rule, family=family, score=score, input=line[:1000])
        self.bbs.sighted(Sighting(self.bbs.clock.seconds(), self.ip, hit.rule, family, line[:60]))
        then = outcome(self.bbs.config.bot_policy)
        if credential is not None and then.log_glued_login:
            self.event("cowrie.login.failed",
                       f"login attempt [{credential.username}/{credential.password}] failed",
                       username=credential.username, password=credential.password)
        if self.room is not None:
            self.bbs.hub.leave(self)
            self.room = None
        if then.shell:
            # The fake shell; under "log" it is only a place to hold the bot
            # (never the chat), and leaving it bans nobody.
            was_login = self.state == LOGIN
            self.state = SHELL
            ban = then.ban_on_leaving
            if credential is not None:
                self.honeypot = Honeypot(self, credential.username, password=credential.password,
                                         ban=ban, command=command)
            else:
                self.honeypot = Honeypot(self, line if was_login else "",
                                         None if was_login else line, ban=ban)
            return True
        duration = self.bbs.ban_bot(self, f"bot: {hit.rule}")
        banned = "" if duration is None else \
            f"; this address is banned for {format_duration(duration)}"
        self.close(f"Connection closed: that is what telnet bots type here "
                   f"(trap {hit.rule}){banned}.")
        return True

    def _bot_score(self) -> BotScore:
        if self.score is None:
            self.score = BotScore()
        return self.score

    def _flood_ok(self) -> bool:
        """The message rate limit: excess lines are dropped, floods muted, then kicked."""
        if self.sysop or self.trusted:
            return True
        if self._limiter is None:
            c = self.bbs.config
            self._limiter = MessageLimiter(self.bbs.clock, c.flood_rate, c.flood_burst)
        verdict = self._limiter.check()
        if verdict is Verdict.OK:
            self._flood_warned = False
            return True
        if verdict is Verdict.DROP:
            if not self._flood_warned:
                self._flood_warned = True
                self.print(error("You are typing too fast; lines are being dropped."))
        elif verdict is Verdict.MUTE:
            self.mute(self.bbs.clock.seconds() + FLOOD_MUTE, "flooding")
        else:
            self.quit_message = "kicked for flooding"
            self.close("Disconnected for flooding.")
        return False

    def mute(self, until: float | None, why: str) -> None:
        self.muted, self.muted_until = True, until
        self.bbs.mute_address(self.ip, until)
        self.print(error(f"You are muted ({why}) {self._until(until)}."))

    def unmute(self) -> None:
        self.muted, self.muted_until = False, None
        self.bbs.unmute_address(self.ip)
        self.print(notice("You are no longer muted."))

    def role_changed(self, sysop: bool) -> None:
        """A sysop's role was given or taken away from outside the chat."""
        self.sysop = sysop
        self.bbs.hub.changed(self)
        if sysop:
            self.print(notice("You are now a sysop; /help lists your commands."))
        else:
            self.print(error("You are no longer a sysop."))

    def account_deleted(self) -> None:
        """The account this session is logged in to is gone: so is the session."""
        self.quit_message = "account deleted"
        self.close(f"Your account {self.account} has been deleted. Goodbye.")

    def _until(self, until: float | None) -> str:
        if until is None:
            return "until a sysop unmutes you"
        left = format_duration(until - self.bbs.clock.seconds())
        return f"for {left} more"

    def is_muted(self) -> bool:
        if self.muted and self.muted_until is not None \
                and self.muted_until <= self.bbs.clock.seconds():
            self.muted, self.muted_until = False, None
            self.bbs.unmute_address(self.ip)
        return self.muted

    def sweep(self, now: float) -> None:
        """Periodic housekeeping: login and idle time-outs, and keepalives."""
        config = self.bbs.config
        if self.state == LOGIN and now - self.connected > config.login_timeout:
            self.close("Login timed out. Goodbye.")
            return
        if self.state == CHAT:
            idle = now - self.last_active
            if idle > config.idle_timeout:
                self.quit_message = "idle"
                self.close("Disconnected: idle for too long.")
                return
            if idle > config.idle_timeout - IDLE_WARNING and not self._idle_warned:
                self._idle_warned = True
                self.print(error("You have been idle a long time; type something "
                                 "or you will be disconnected in 2 minutes."))
        if now - self._keepalive_at >= KEEPALIVE and self.door is not None:
            self._keepalive_at = now
            self.door.keepalive()

    def editor_eof(self) -> None:
        self.quit("")

    def editor_complete(self, before: str) -> Sequence[str]:
        word = before.rsplit(" ", 1)[-1]
        if word == before and word.startswith("/"):
            names = self.bbs.commands.names(sysop=self.sysop)
            return [f"/{n}" for n in names if n.startswith(word[1:].lower())]
        key = fold(word)
        return sorted(u.nick for u in self.bbs.hub.users.values() if fold(u.nick).startswith(key))

    # -- login ----------------------------------------------------------------

    def _login(self, name: str) -> Deferred | None:
        self._prompted_at = self.bbs.clock.seconds()
        self._typed = False
        self._login_tries += 1
        if self._login_tries > LOGIN_TRIES:
            self.close("Too many tries. Goodbye.")
            return None
        if not name:
            self._enter(self.bbs.hub.guest_name(), guest=True)
            return None
        return self._run(identify, name, "login")  # which says what is wrong with a name

    def _enter(self, nick: str, guest: bool) -> None:
        """Leave the login prompt as C{nick}: into the lobby."""
        ban = None if self.trusted else self.bbs.bans.match_nick(nick)
        if ban is not None:
            self.close(describe(ban, self.bbs.clock.seconds()))
            return
        self.guest = guest
        problem = self.bbs.hub.claim(self, nick)
        if problem:
            self.print(error(problem + " Try another, or press Enter to be a guest."))
            return
        self.state = CHAT
        self.editor.keep_entered = False
        self.event("bbs.user.login", f"{nick} logged in", nick=nick, guest=guest,
                   account=self.account)
        self.print(f"Welcome, {nick}! You are in the {LOBBY}. Type /help for commands.")
        self._join(LOBBY)

    def _join(self, room: str, history: Sequence[HistoryEntry] = ()) -> None:
        self.bbs.hub.join(self, room, history)
        self._prompt()

    def _prompt(self) -> None:
        """Show the prompt that fits: none while a line is still being handled.

        Line-mode clients (netcat, bots) get prompts only for questions
        (C{login:}, C{Password:}); a chat prompt would just litter their
        output, since they cannot redraw it.
        """
        if self.state not in (LOGIN, CHAT):
            return
        secret = False
        if self._ask is not None:
            prompt, secret = self._ask.prompt, self._ask.secret
        elif self._pending:
            prompt = ""
        elif self.state == LOGIN:
            prompt = "" if self.admitted is not None else "login: "  # SSH let it in: no login:
        elif self.room is not None and self.editor.character_mode:
            prompt = f"[{self.room.name}] "
        else:
            prompt = ""
        if self._secret_echo and not secret and not self._pending:
            self._show_typing()  # the secrets of this dialogue are all typed
        if (prompt, secret) == self._shown_prompt:
            return
        self._shown_prompt = (prompt, secret)
        if secret:
            if not self._secret_echo:
                self._hide_typing()
            self.editor.ask_secret(prompt)
        else:
            self.editor.set_prompt(prompt)

    def _hide_typing(self) -> None:
        """Before a secret prompt, ask a line-mode client not to echo (RFC 857:
        we offer to echo, and then echo nothing); one that never negotiates
        cannot be asked, and is told once."""
        door = self.door
        if door is None or self.editor.character_mode:
            return  # we echo already: never a secret
        if door.negotiates:
            self._catch_up()  # what the room said first goes first
            self._secret_echo = door.request_echo(True)
        elif not self._told_echo:
            self._told_echo = True
            self.print(error("Your client shows what you type: passwords too, so make sure "
                             "nobody is watching (a telnet client would hide them)."))

    def _show_typing(self) -> None:
        """After a dialogue's secret lines, give a line-mode client its own
        echo back (kept off between two secret prompts, so that the client
        is not told to echo just as the next secret is typed)."""
        self._secret_echo = False
        if self.door is not None:
            self._catch_up()
            self.door.request_echo(False)

    # -- commands -------------------------------------------------------------

    def _command(self, line: str) -> Deferred | None:
        name, _, args = line.partition(" ")
        command = self.bbs.commands.lookup(name)
        if command is None:
            self.print(error(f"Unknown command: /{name} — try /help"))
            return None
        if command.sysop and not self.sysop:
            self.print(error(f"Permission denied: /{command.name} is for sysops"))
            return None
        if command.heard and self._silenced():
            return None
        return self._run(command.handler, args.strip(), f"/{command.name}")

    def context(self, hub: HubView, store: Any = None) -> Context:
        return Context(
            session=self.id, nick=self.nick, room=self.room.name if self.room else "",
            guest=self.guest, account=self.account, sysop=self.sysop, away=self.away, reply_to=self.reply_to,
            ignoring=self.ignoring, colour=self.editor.colour,
            now=self.bbs.clock.seconds(), hub=hub, store=store, registered=self.bbs.registered,
            policy=self.bbs.policy, bots=tuple(self.bbs.sightings) if self.sysop else (),
            width=self.editor.width,
        )

    def _run(self, handler: Callable[[Context, str], Sequence[fx.Effect]],
             args: str, what: str,
             judge: Callable[[Sequence[fx.Effect]], None] | None = None) -> Deferred | None:
        """Run C{handler} and apply its effects: right here if it does not
        block, else in the worker pool (see L{bbs.pool}).  C{judge} sees the
        effects first, even if the session has closed meanwhile."""
        store = self.bbs.store
        try:
            try:
                here = self.context(self.bbs.hub.live, None if store is None else WORKER_ONLY)
                effects = try_here(_call, handler, here, args)
            except NeedsWorker:
                ctx = attrs.evolve(here, hub=self.bbs.hub.view(), store=store)
                d = self.bbs.pool.run(_call, handler, ctx, args)
                if judge is not None:
                    d.addCallback(_judged, judge)
                d.addCallback(self.apply)
                d.addErrback(self._crashed, what)
                return d
            if judge is not None:
                judge(effects)
            self.apply(effects)
        except Exception:
            self._crashed(Failure(), what)
        return None

    def _crashed(self, failure: Failure, what: str) -> None:
        if failure.check(Overloaded):
            self.print(error(str(failure.value)))
            return
        log.failure("{what} failed for {session}", failure, what=loggable(what), session=self.id)
        self.event("bbs.command.error", f"{what} failed", command=what,
                   error=failure.getErrorMessage()[:200])
        if self.state != CLOSED:
            self.print(error(f"Sorry, {what} failed with an internal error."))

    # -- leaving --------------------------------------------------------------

    def quit(self, message: str) -> None:
        # A muted user's parting words would reach the room: they go unsaid.
        self.quit_message = "" if self.is_muted() else sanitize(message)[:120]
        self.close("Goodbye.")

    def close(self, reason: str | None) -> None:
        """Say C{reason} (if any) on a line of its own, then hang up."""
        self._closing = True
        if self.door is not None:
            self._catch_up()
            if reason is not None:
                self.editor.farewell(reason)
            self.door.close(reason, shown=True)


def _judged(effects: Sequence[fx.Effect],
            judge: Callable[[Sequence[fx.Effect]], None]) -> Sequence[fx.Effect]:
    judge(effects)
    return effects


def _call(handler: Callable[[Context, str], Sequence[fx.Effect]],
          ctx: Context, args: str) -> Sequence[fx.Effect]:
    """Run a handler; a L{CommandError} becomes the user's reply."""
    try:
        return tuple(handler(ctx, args))
    except (CommandError, Refused) as e:
        return (fx.Reply(error(str(e))),)
    except StoreError as e:
        log.error("store: {error}", error=loggable(str(e)))
        return (fx.Reply(error("Sorry, that could not be saved or read just now; try again later.")),)
