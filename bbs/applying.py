"""What each L{bbs.effects} Effect does to a live session.

Command handlers are pure functions that return Effects (L{bbs.effects});
applying them is the session's side: it reaches the hub, the server and
other sessions.  An L{fx.Ask} leads to the answer typed at its prompt, and
a password's answer to a check paced by the login throttle: both are here.  L{Applying} is the part of L{bbs.session.Session} that
does it, one method per Effect (see L{_APPLY}), kept apart from the
connection's state machine so that each reads on its own.  It is a mixin:
it has no state, and uses the session's.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial
from typing import Any

from twisted.internet.defer import Deferred, succeed
from twisted.internet.task import deferLater

from bbs import effects as fx
from bbs.durations import format_duration
from bbs.guard.bans import describe
from bbs.guard.limits import LoginAttempt
from bbs.hub import LOBBY, notice
from bbs.lines import Message
from bbs.rates import TokenBucket
from bbs.states import CHAT, CLOSED, LOGIN
from bbs.styled import Span, error
from bbs.text import fold

# What is announced to a room is paced for everyone but sysops and trusted
# networks: (burst, then one per so many seconds).
PACES = {"nick": (3, 10.0), "room": (5, 5.0)}


class Applying:
    """Applies Effects on the reactor thread; part of L{bbs.session.Session}."""

    __slots__ = ()

    def apply(self, effects: Sequence[fx.Effect]) -> None:
        for effect in effects:
            if self.state == CLOSED:
                return
            if type(effect) in _HEARD and self.state == CHAT and self._silenced():
                continue  # muted while the command ran
            _APPLY[type(effect)](self, effect)

    def _silenced(self) -> bool:
        """Whether the user is muted (and told so): nothing they do may reach others."""
        if not self.is_muted():
            return False
        self.print(error(f"You are muted {self._until(self.muted_until)}; nobody hears you."))
        return True

    def _too_soon(self, what: str) -> bool:
        """Whether C{what} (a key of L{PACES}) comes too soon after the last
        ones, and the user was told how long to wait; else it spends a turn."""
        if self.sysop or self.trusted:
            return False
        paces = self._paces
        if paces is None:
            paces = self._paces = {}
        bucket = paces.get(what)
        if bucket is None:
            burst, every = PACES[what]
            bucket = paces[what] = TokenBucket(self.bbs.clock, 1 / every, burst)
        if bucket.take():
            return False
        doing = "changing your nickname" if what == "nick" else "moving between rooms"
        wait = format_duration(max(1.0, bucket.wait()))
        self.print(error(f"You are {doing} too often; try again in {wait}."))
        return True

    def _reply(self, e: fx.Reply) -> None:
        self.print(e.message)

    def _say(self, e: fx.Say) -> None:
        if self.muted and self._silenced():  # the attribute first: every chat line asks
            return
        if self.room is None:
            return
        self.bbs.hub.say(self, e.text, e.emote)
        if self.bbs.config.log_chat:
            self.event("bbs.chat", f"<{self.nick}> {e.text}", room=self.room.name,
                       nick=self.nick, text=e.text)

    def _private(self, e: fx.PrivateMessage) -> None:
        target = self.bbs.hub.find(e.target)
        if target is None:
            self.print(error(f"No such user online: {e.target}"))
            return
        if fold(self.nick) not in target.ignoring:
            shown = f"* {self.nick} {e.text}" if e.emote else f"*{self.nick}* {e.text}"
            self.bbs.hub.tell(target, Message((Span(shown, "private"),), fold(self.nick)))
            target.reply_to = self.nick
        self.print((Span(f"-> *{target.nick}* {e.text}", "private"),))
        if target.away is not None:
            self.print(notice(f"{target.nick} is away: {target.away}"))

    def _change_nick(self, e: fx.ChangeNick) -> None:
        if self.state == LOGIN:
            self._enter(e.nick, guest=False)
            return
        if self._too_soon("nick"):
            return
        problem = self.bbs.hub.claim(self, e.nick)
        if problem:
            self.print(error(problem))
            return
        self.guest = False
        self.bbs.hub.changed(self)
        self.print(notice(f"You are now known as {e.nick}."))

    def _join_effect(self, e: fx.Join) -> None:
        hub, here, most = self.bbs.hub, self.room, self.bbs.config.max_rooms
        emptied = here is not None and here.key != LOBBY and len(here.members) == 1
        if fold(e.room) not in hub.rooms and len(hub.rooms) - emptied >= most:
            self.print(error(f"{most} rooms are open, as many as this server holds; "
                             "join one of them (/rooms lists them)."))
            return
        if self._too_soon("room"):
            return
        self._join(e.room, e.history)

    def _topic(self, e: fx.SetTopic) -> None:
        if self._too_soon("room"):
            return
        self.bbs.hub.set_topic(self, e.topic)

    def _away(self, e: fx.SetAway) -> None:
        self.away = e.text
        self.bbs.hub.changed(self)
        if e.text is None:
            self.print(notice("Welcome back; you are no longer marked away."))
        else:
            self.print(notice(f"You are marked away: {e.text}"))

    def _ignore(self, e: fx.ToggleIgnore) -> None:
        key = fold(e.nick)
        if key in self.ignoring:
            self.ignoring -= {key}
            self.print(notice(f"You see {e.nick}'s lines again."))
        else:
            self.ignoring |= {key}
            self.print(notice(f"Ignoring {e.nick}. /ignore {e.nick} again to undo."))

    def _colour(self, e: fx.SetColour) -> None:
        self.colour_choice = e.on
        self._update_colour()
        self.print(notice(f"Colour is {'on' if e.on else 'off'}."))

    def _quit(self, e: fx.Quit) -> None:
        self.quit(e.message)

    def _ask_effect(self, e: fx.Ask) -> None:
        if e.login is not None:
            refused = self.bbs.throttle.refusal(self.ip, e.login)
            if refused is not None:
                self.print(error(refused))  # not even asked: it would not be checked
                return
        self._ask = e
        # An answer (a post's body line) is not echoed back by the room the
        # way a chat line is: it stays on screen, as at login:.
        self.editor.keep_entered = True

    # -- effects on the login and on others --------------------------------

    def _answer(self, text: str) -> Deferred | None:
        """The line typed at an L{fx.Ask} prompt goes to its continuation."""
        ask, self._ask = self._ask, None
        self.editor.keep_entered = self.state != CHAT
        # The editor ended the secret line and cleared its prompt itself.
        self._shown_prompt = ("", False)
        if ask.secret and self._secret_echo and self.door.character_mode:
            self.editor_output("\n")  # the client echoed nothing, not even the line's end
        if ask.login is not None:
            return self._try_password(ask, text)
        return self._run(ask.then, text, f"answer to {ask.prompt.strip()}")

    def _try_password(self, ask: fx.Ask, password: str) -> Deferred | None:
        """Check a password when the throttle lets it be: counted as typed,
        after its delay, and when its account has a check slot free."""
        attempt = self.bbs.throttle.attempt(self.ip, ask.login)
        if isinstance(attempt, str):
            self.print(error(attempt))
            return None
        self._attempt = attempt
        d = checkable(self.bbs.clock, attempt)
        d.addCallback(lambda _: self._check_password(ask, password, attempt))
        d.addBoth(self._password_checked, attempt)
        return d

    def _check_password(self, ask: fx.Ask, password: str,
                        attempt: LoginAttempt) -> Deferred | None:
        if attempt.over or self.state == CLOSED:
            return None
        return self._run(ask.then, password, "login", judge=partial(verdict, attempt))

    def _password_checked(self, result: object, attempt: LoginAttempt) -> object:
        attempt.release()  # no verdict came (no store, a crash): it counts for nothing
        if self._attempt is attempt:
            self._attempt = None
        return result

    def _notify(self, e: fx.Notify) -> None:
        target = self.bbs.hub.find(e.nick)
        if target is not None:
            target.print(notice(e.text))

    def _logged_in(self, e: fx.LoggedIn) -> None:
        holder = self.bbs.hub.holder(e.nick)
        if holder is not None and holder is not self:
            if holder.account is not None:
                self.print(error(f"{holder.nick} is already logged in elsewhere."))
                return
            # Someone is using the name, or a look-alike, unregistered: the owner takes it back.
            taken = holder.nick
            self.bbs.hub.claim(holder, self.bbs.hub.guest_name())
            holder.guest = True
            self.bbs.hub.changed(holder)
            why = "is" if fold(taken) == fold(e.nick) else f"looks like {e.nick}, which is"
            holder.print(notice(f"{taken} {why} a registered nickname; you are now {holder.nick}."))
        ban = None if self.trusted else self.bbs.bans.match_nick(e.nick)
        if ban is not None:
            self.close(describe(ban, self.bbs.clock.seconds()))
            return
        self.account = e.nick
        self.sysop = e.sysop
        if fold(e.nick) not in self.bbs.registered:  # registered just now
            self.bbs.note_account(e.nick)
        if self.state == LOGIN:
            self._enter(e.nick, guest=False)
        else:
            if self.nick != e.nick:
                self.bbs.hub.claim(self, e.nick)
            self.guest = False
            self.bbs.hub.changed(self)
            self.print(notice(f"You are logged in as {e.nick}."))
            self.event("bbs.user.login", f"{e.nick} logged in", nick=e.nick, guest=False,
                       account=e.nick)
        if e.unread:
            plural = "s" if e.unread != 1 else ""
            self.print(notice(f"You have {e.unread} new message{plural}; /inbox reads them."))

    def _login_failed(self, e: fx.LoginFailed) -> None:
        self.event("cowrie.login.failed", f"login attempt [{e.nick}] failed", username=e.nick)
        self.print(error("Login incorrect."))

    # -- sysop effects ------------------------------------------------------

    def _sysop_event(self, action: str, target: str, reason: str = "") -> None:
        self.event("bbs.sysop.action", f"{self.nick} {action} {target}: {reason}",
                   actor=self.nick, action=action, target=target, reason=reason)

    def _kick(self, e: fx.Kick) -> None:
        target = self.bbs.hub.find(e.nick)
        if target is None:
            self.print(error(f"No such user online: {e.nick}"))
            return
        said = f": {e.reason}" if e.reason else ""
        self._sysop_event("kick", target.nick, e.reason)
        target.quit_message = f"kicked by {self.nick}{said}"
        target.close(f"You have been kicked by {self.nick}{said}")
        self.print(notice(f"Kicked {target.nick}{said}."))

    def _banned(self, e: fx.Banned) -> None:
        for record in e.records:
            self._sysop_event("ban", record.target, record.reason)
        self.bbs.add_bans(e.records)

    def _unbanned(self, e: fx.Unbanned) -> None:
        self.bbs.lift_ban(e.kind, e.target)
        self._sysop_event("unban", e.target)

    def _mute_effect(self, e: fx.Mute) -> None:
        target = self.bbs.hub.find(e.nick)
        if target is None:
            self.print(error(f"No such user online: {e.nick}"))
            return
        if e.on:
            self._sysop_event("mute", target.nick)
            target.mute(e.until, f"by {self.nick}")
        else:
            self._sysop_event("unmute", target.nick)
            target.unmute()

    def _wall(self, e: fx.Wall) -> None:
        self._sysop_event("wall", "everyone", e.text)
        self.bbs.hub.wall(Message((Span(f"*** Announcement from {self.nick}: {e.text}", "bold"),)))

    def _shutdown(self, e: fx.Shutdown) -> None:
        self._sysop_event("shutdown", "server", e.message)
        self.bbs.shutdown_in(e.delay, e.message, self.nick)


def _nothing() -> None:
    pass


def checkable(clock: Any, attempt: LoginAttempt) -> Deferred:
    """Fire when a typed password may be checked: after the login throttle's
    delay for it, and when its account has a check slot free."""
    d = deferLater(clock, attempt.delay, _nothing) if attempt.delay else succeed(None)
    d.addCallback(lambda _: _turn(attempt))
    return d


def _turn(attempt: LoginAttempt) -> Deferred:
    """Fire when the attempt's account may have one more check running."""
    d: Deferred = Deferred()
    attempt.turn(lambda: d.callback(None))
    return d


def verdict(attempt: LoginAttempt, effects: Sequence[fx.Effect]) -> None:
    """Tell the throttle what a password check found."""
    for effect in effects:
        if isinstance(effect, fx.LoginFailed):
            attempt.failed()
            return
        if isinstance(effect, fx.LoggedIn):
            attempt.succeeded()
            return


# Effects that reach other people: none while the user is muted.
_HEARD = frozenset((fx.PrivateMessage, fx.ChangeNick, fx.Join, fx.SetTopic, fx.SetAway))

_APPLY: dict[type, Callable[[Any, Any], None]] = {
    fx.Reply: Applying._reply,
    fx.PrivateMessage: Applying._private,
    fx.Say: Applying._say,
    fx.ChangeNick: Applying._change_nick,
    fx.Join: Applying._join_effect,
    fx.SetTopic: Applying._topic,
    fx.SetAway: Applying._away,
    fx.ToggleIgnore: Applying._ignore,
    fx.SetColour: Applying._colour,
    fx.Quit: Applying._quit,
    fx.Ask: Applying._ask_effect,
    fx.Notify: Applying._notify,
    fx.LoggedIn: Applying._logged_in,
    fx.LoginFailed: Applying._login_failed,
    fx.Kick: Applying._kick,
    fx.Banned: Applying._banned,
    fx.Unbanned: Applying._unbanned,
    fx.Mute: Applying._mute_effect,
    fx.Wall: Applying._wall,
    fx.Shutdown: Applying._shutdown,
}
