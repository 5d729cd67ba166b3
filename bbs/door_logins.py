"""Who comes in through a door that asks itself (SSH), decided by the session.

Telnet's and the browser's users answer C{login:}; an SSH client says who it
is before it has a terminal, with a password or a key, and the door asks
the session (L{bbs.door.DoorApplication.door_password}, C{door_key}).  The
answers are the ones C{login:} gives, by the same rules:

  - a name the bot traps are sure of (C{root}, C{admin}, ...) is a bot:
    under C{--bot-policy shell} or C{log} it is let in, to the fake shell
    and with its password logged; under C{ban} its address is banned at
    this first attempt and the connection closed;
  - a registered nickname needs its password, checked by the same throttle
    and argon2 check as at C{login:}, or one of the account's public keys
    (C{/key}); a wrong one is refused and logged without the password;
  - any other name, or C{guest}, comes in as a guest under that name, with
    no password asked (what it typed, if anything, is nobody's secret and
    is not logged).

Nothing is shown until the client opens its session (L{DoorLogins.door_shell}):
then the MOTD, and the user enters as decided, with no C{login:} prompt.
L{DoorLogins} is a stateless part of L{bbs.session.Session}, as
L{bbs.applying.Applying} is.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import attrs
from twisted.internet.defer import Deferred, succeed

from bbs import effects as fx
from bbs.applying import checkable, verdict
from bbs.commands.accounts import verify
from bbs.guard.credentials import Credential
from bbs.guard.policy import outcome
from bbs.guard.traps import SURE, Detection
from bbs.pubkeys import fingerprint
from bbs.states import CLOSED, LOGIN
from bbs.text import fold, sanitize

GUEST_NAMES = frozenset({"", "guest"})


@attrs.frozen
class Admitted:
    """Who the door let in, until the client opens its session.

    One of: C{account} (a registered user's L{fx.LoggedIn}), C{bot} (the
    trap that caught it and what it logged in with), or neither: a guest,
    under C{nick} if it gave one."""

    nick: str
    account: fx.LoggedIn | None = None
    bot: tuple[Detection, Credential] | None = None


class DoorLogins:
    """The answers to an authenticating door; part of L{bbs.session.Session}."""

    __slots__ = ()

    def door_event(self, eventid: str, message: str, fields: Mapping[str, Any]) -> None:
        self.event(eventid, message, **fields)

    def door_password(self, user: str, password: str | None) -> Deferred[bool]:
        if self.state != LOGIN or self.admitted is not None:
            return succeed(False)
        user = sanitize(user).strip()
        hit = None if self.trusted else self.bbs.traps.match_login(user)
        registered = fold(user) in self.bbs.registered
        if password is None and (hit is not None or registered):
            return succeed(False)  # the door asks for a password next
        if hit is not None:
            return succeed(self._bot_at_door(hit, user, password or ""))
        if registered:
            return self._check_at_door(user, password)
        self.admitted = Admitted(user if fold(user) not in GUEST_NAMES else "")
        return succeed(True)

    def door_key(self, user: str, blob: bytes, signed: bool) -> Deferred[bool]:
        user = sanitize(user).strip()
        store = self.bbs.store
        if not signed:
            self.event("cowrie.client.fingerprint", f"public key offered for {user}",
                       username=user, fingerprint=fingerprint(blob))
        if self.state != LOGIN or self.admitted is not None or store is None \
                or fold(user) not in self.bbs.registered:
            return succeed(False)
        d = self.bbs.pool.run(_key_login, store, user, blob, self.bbs.clock.seconds())
        d.addCallback(self._key_checked, signed)
        return d

    def door_shell(self) -> None:
        """The client's terminal is ready: the MOTD, and in as decided."""
        admitted, self.admitted = self.admitted, None
        if admitted is None or self.state != LOGIN:
            self.close("Not logged in.")
            return
        if admitted.bot is None and self.bbs.motd is not None:
            self.deliver(self.bbs.motd)
        self._admit(admitted)
        self._prompt()

    def door_exec(self, command: str) -> None:
        """A command instead of a session: a bot's is run in the fake shell
        and answered as there; a person is told this is a chat."""
        admitted, self.admitted = self.admitted, None
        if admitted is None or admitted.bot is None:
            self.event("cowrie.command.input", f"CMD: {command[:1000]}", input=command[:1000])
            self.close("This is a chat server: log in without a command to chat.")
            return
        self._admit(admitted, command)  # answered in the fake shell, then closed

    # -- inside

    def _admit(self, admitted: Admitted, command: str | None = None) -> None:
        if admitted.bot is not None:
            hit, credential = admitted.bot
            self._caught(hit, credential.username, credential, command)
        elif admitted.account is not None:
            self.apply([admitted.account])
        else:
            self._enter(admitted.nick or self.bbs.hub.guest_name(), guest=True)

    def _bot_at_door(self, hit: Detection, user: str, password: str) -> bool:
        """A trapped name: in, to the fake shell, or banned now (by policy)."""
        if hit.score < SURE and not self._behaves_like_a_bot():
            return False  # a common name (user, test): refused, as at login:
        credential = Credential(user, password)
        if outcome(self.bbs.config.bot_policy).shell:
            self.admitted = Admitted(user, bot=(hit, credential))
            return True
        self._caught(hit, user, credential)  # banned, and the connection closed
        return False

    def _check_at_door(self, nick: str, password: str) -> Deferred[bool]:
        """A registered user's password, paced and checked as at C{login:}."""
        attempt = self.bbs.throttle.attempt(self.ip, nick)
        if isinstance(attempt, str):
            self.event("cowrie.login.failed", f"login attempt [{nick}] refused: {attempt}",
                       username=nick)
            return succeed(False)
        self._attempt = attempt
        d = checkable(self.bbs.clock, attempt)
        d.addCallback(lambda _: self._verify_at_door(nick, password, attempt))
        d.addBoth(self._password_checked, attempt)
        return d

    def _verify_at_door(self, nick: str, password: str, attempt) -> Deferred[bool] | bool:
        if attempt.over or self.state == CLOSED:
            return False
        ctx = self.context(self.bbs.hub.view(), self.bbs.store)
        d = self.bbs.pool.run(verify, nick, ctx, password)
        d.addCallback(self._verified, attempt)
        return d

    def _verified(self, effects: Sequence[fx.Effect], attempt) -> bool:
        verdict(attempt, effects)
        for effect in effects:
            if isinstance(effect, fx.LoggedIn):
                self.admitted = Admitted(effect.nick, account=effect)
                return True
            if isinstance(effect, fx.LoginFailed):
                self.event("cowrie.login.failed", f"login attempt [{effect.nick}] failed",
                           username=effect.nick)
        return False

    def _key_checked(self, account: fx.LoggedIn | None, signed: bool) -> bool:
        if account is None or self.state != LOGIN:
            return False
        if signed:
            self.admitted = Admitted(account.nick, account=account)
        return True


def _key_login(store: Any, nick: str, blob: bytes, now: float) -> fx.LoggedIn | None:
    """In the worker pool: the account's login if C{blob} is one of its keys."""
    account = store.get_account(nick)
    if account is None or not store.has_key(account.nick, blob):
        return None
    store.touch_seen(account.nick, now)
    return fx.LoggedIn(account.nick, account.is_sysop, store.unread_count(account.nick))

