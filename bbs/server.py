"""The server: what every session shares, on the reactor thread.

L{BBS} holds the hub, the guard (bans, limits, traps), the command registry
and the store; it admits connections, enforces bans, bans trapped bots, picks
up changes made from outside, sweeps idle sessions and counts a shutdown
down.  Sessions reach it through the narrow L{bbs.seat.Seat}; the twistd glue
that builds it is L{bbs.service}.
"""

from __future__ import annotations

from collections import deque
from collections.abc import Callable, Iterable, Sequence
from functools import partial
from typing import Any

from twisted.application.service import Service
from twisted.internet import defer
from twisted.internet.task import LoopingCall
from twisted.logger import Logger

from bbs.commands import catalog
from bbs.config import Config
from bbs.context import Policy, Sighting
from bbs.durations import format_duration
from bbs.events import IEventSink
from bbs.guard.addresses import NetworkSet, ban_network, normalize_ip
from bbs.guard.bans import BanLike, BanList, Escalation, describe, reach
from bbs.guard.bantable import Held, HeldBan
from bbs.guard.limits import ConnectionLimiter, LoginThrottle
from bbs.guard.traps import TrapRules
from bbs.history import HistoryWriter
from bbs.hub import LOBBY, Hub
from bbs.lines import Lines, Message
from bbs.names import Registered
from bbs.pool import WorkerPool
from bbs.session import Session
from bbs.store import PRUNE_BATCH, BanChanges, BanRecord, IStore
from bbs.styled import Span
from bbs.text import fold
from bbs.turns import at_turn_end

__all__ = ["BBS"]

log = Logger()

SHUTDOWN_GRACE = 3.0  # then connections that have not taken their goodbye are dropped
SWEEP_EVERY = 10.0
STORE_POLL = 3.0  # seconds between looks for bans and accounts changed from outside
PRUNE_EVERY = 60.0  # seconds between deletions of expired bans from the store
PRUNE_BATCHES = 20  # at most this many batches of store.PRUNE_BATCH at a time
ENFORCE_EACH = 64  # up to this many new bans are matched against the sessions one by one
SIGHTINGS = 50
BOT_BANNER = "traps"  # who set a bot's ban, as /bans and the store say


class BBS(Service):
    """The server's shared state: hub, sessions, guard, command registry, events.

    Each session is handed it as a L{bbs.seat.Seat}, and uses no more of it.
    Stopping it tells everyone and closes every connection, so SIGTERM is a
    clean goodbye rather than a dropped socket.
    """

    name = "bbs"

    def __init__(self, config: Config, pool: WorkerPool, events: IEventSink,
                 clock: Any, store: IStore | None = None,
                 stop: Callable[[], None] | None = None) -> None:
        self.config = config
        self.stop = stop
        self.pool = pool
        self.events = events
        self.clock = clock
        self.store = store
        self.history = HistoryWriter(store, pool, clock) if store is not None else None
        self.hub = Hub(clock, self.history, at_turn_end=partial(at_turn_end, clock))
        self.commands = catalog.load()
        self.sessions: set[Session] = set()
        self._all_ended: defer.Deferred | None = None  # fired when stopping and the last one ended
        motd = config.motd.read_text(encoding="utf-8").rstrip("\n")
        # Lines, so that it is laid out once per terminal shape, not per login.
        self.motd = Lines((Message((Span(motd),)),)) if motd else None
        self.policy = Policy(config.ban_duration, config.ipv6_ban_prefix)
        self.trusted = NetworkSet(config.trust)
        self.bans = BanList(clock, ended=self._ban_ended)
        self.escalation = Escalation(clock, ignore=self.trusted, banned=self.bans.covers)
        self.limiter = ConnectionLimiter(
            clock, per_address=config.per_address, total=config.max_connections,
            rate=config.connect_rate, trusted=self.trusted,
            ipv6_prefix=config.ipv6_limit_prefix,
        )
        self.throttle = LoginThrottle(clock)
        self.traps = TrapRules.load(config.traps)
        self.sightings: deque[Sighting] = deque(maxlen=SIGHTINGS)
        self.mutes: dict[str, float | None] = {}
        # Every account's nickname, folded and by look-alike key, so that telling
        # a registered nickname (or a double of one) at login: from a free one
        # needs no trip to the store; and which of them are sysops (folded).
        self.registered: Registered = Registered()
        self.sysops: frozenset[str] = frozenset()
        # The store's version of what was last loaded from it ("accounts").
        self._versions: dict[str, int] = {}
        self._ban_change = 0  # the store's last change to the bans seen here
        self._loops = [LoopingCall(self.sweep), LoopingCall(self.poll_store),
                       LoopingCall(self.prune_store)]
        for loop in self._loops:
            loop.clock = clock
        self._shutdown: Any = None

    # -- life -----------------------------------------------------------------

    def startService(self) -> None:
        if self.store is not None:
            self.hub.seed(LOBBY, self.store.recent_history(LOBBY))
            self._ban_change = self.store.last_ban_change()
            self.bans.replace(self.store.ban_rows(self.clock.seconds()))
            log.info("Bans loaded: {n} in force", n=len(self.bans))
            self._versions["accounts"] = self.store.accounts_version()
            self.registered, self.sysops = _accounts(self.store)
        self._loops[0].start(SWEEP_EVERY, now=False)
        if self.store is not None:
            self._loops[1].start(STORE_POLL, now=False)
            self._loops[2].start(PRUNE_EVERY, now=False)
        super().startService()

    def _ban_ended(self, ban: Held) -> None:
        """A bot's ban that ends (expired, or lifted) is remembered by the
        escalation, so the bot is a repeat offender if it comes back soon.

        Told when the ban ends rather than when it is read at start-up: a bot
        cannot offend while its ban holds (it is refused at the door), and a
        hundred thousand bans need not be remembered twice."""
        if isinstance(ban, HeldBan) and ban.set_by == BOT_BANNER and ban.expires is not None:
            self.escalation.recall(ban.network.network_address, ban.created, ban.expires)

    def stopService(self) -> defer.Deferred:
        super().stopService()
        for loop in self._loops:
            if loop.running:
                loop.stop()
        sessions = list(self.sessions)
        if not sessions:
            return defer.succeed(None)
        self.hub.closing = True
        d = self._all_ended = defer.Deferred()
        for s in sessions:
            s.close("The server is shutting down. Goodbye.")
        timeout = self.clock.callLater(SHUTDOWN_GRACE, lambda: [
            s.door.abort("shutdown") for s in sessions if s.door is not None
        ])
        return d.addBoth(lambda _: timeout.active() and timeout.cancel())

    def ended(self, session: Session) -> None:
        """C{session} has done all it does when its connection is lost."""
        if not self.sessions and self._all_ended is not None:
            d, self._all_ended = self._all_ended, None
            d.callback(None)

    # -- the door -------------------------------------------------------------

    def admit(self, host: str) -> str | None:
        """Why a new connection from C{host} is refused, or None to let it in."""
        try:
            ip = normalize_ip(host)
        except ValueError:
            return None  # not an IP connection (a UNIX socket): nothing to check
        if host not in self.trusted:
            ban = self.bans.match_address(ip)
            if ban is not None:
                return describe(ban, self.clock.seconds())
        return self.limiter.admit(host)

    def enforce_bans(self, added: Iterable[BanLike] | None = None) -> None:
        """Disconnect everyone a ban in force now matches.

        Given the bans just C{added}, only they are matched against the
        people online (the bans held are not looked at); then each one caught
        is told of the longest-lived ban on them.
        """
        now = self.clock.seconds()
        sessions = [s for s in self.sessions if not s.trusted]
        if added is not None:
            added = list(added)
            if len(added) <= ENFORCE_EACH:
                reaches = reach(added)
                sessions = [s for s in sessions
                            if reaches(s.ip, (s.account or s.nick) if s.nick else None)]
        for s in sessions:
            ban = self._ban_on(s)
            if ban is not None:
                s.quit_message = "banned"
                s.close(describe(ban, now))

    def add_bans(self, records: Sequence[BanRecord]) -> None:
        """Hold the bans a sysop just set (the store has them already) and
        disconnect everyone they match."""
        for record in records:
            self.bans.add(record)
        self.enforce_bans(records)

    def lift_ban(self, kind: str, target: str) -> None:
        """Stop holding the ban a sysop just lifted (in the store already)."""
        self.bans.remove(kind, target)

    def _ban_on(self, session: Session) -> BanLike | None:
        """The ban that cuts C{session} off, if any.

        A sysop is never cut off by a ban they set themselves (one on an
        address they share with the banned): /ban asked them first, and they
        need to stay on to lift it.
        """
        bans = self.bans.matches(session.ip)
        if session.nick:
            nick_ban = self.bans.match_nick(session.account or session.nick)
            if nick_ban is not None:
                bans.append(nick_ban)
        own = fold(session.account) if session.sysop and session.account else None
        return next((ban for ban in bans if fold(ban.set_by) != own), None)

    def ban_bot(self, session: Session, reason: str) -> float | None:
        """Ban a trapped bot's address for a growing time (fail2ban style);
        how long, or C{None} if it is not banned anew."""
        banned = ban_network(session.ip, self.config.ipv6_ban_prefix)
        # The offender is what the ban covers: with --ipv6-ban-prefix 64 a
        # whole /64 escalates as one, as it is banned as one.
        duration = self.escalation.next_duration(banned.network_address)
        if duration is None:
            return None
        network = str(banned)
        now = self.clock.seconds()
        record = BanRecord(None, "net", network, reason, BOT_BANNER, now, now + duration)
        self.bans.add(record)
        session.event("bbs.bot.banned", f"{network} banned for {format_duration(duration)}: {reason}",
                      duration=duration, reason=reason)
        if self.store is not None:
            d = self.pool.run(self.store.add_ban, record)
            d.addErrback(lambda f: log.error("ban of {net} not saved: {e}", net=network, e=f.value))
        return duration

    def poll_store(self) -> defer.Deferred:
        """Pick up bans and accounts changed from outside (hfnjbbs-admin) within seconds."""
        store = self.store
        return defer.gatherResults([
            self._poll_bans(),
            self._reload("accounts", store.accounts_version, self._load_accounts,
                         _accounts, store),  # indexed in the worker
        ])

    def _poll_bans(self) -> defer.Deferred:
        """Apply the changes to the bans since the last one seen: each costs
        the work of that ban, whatever the number held."""
        d = self.pool.run(self.store.ban_changes, self._ban_change)
        d.addCallback(self._apply_ban_changes)
        return d.addErrback(lambda f: log.error("could not read bans: {e}", e=f.value))

    def _apply_ban_changes(self, changes: BanChanges) -> defer.Deferred | None:
        if not changes.complete:  # too far behind: the store pruned what we missed
            d = self.pool.run(_read_bans, self.store, self.clock)
            return d.addCallback(self._load_bans, changes.last)
        for kind, target in changes.lifted:
            self.bans.remove(kind, target)
        for row in changes.bans:
            self.bans.add(row)
        if changes.bans or changes.lifted:
            log.info("Bans updated: {a} added, {l} lifted, {n} in force",
                     a=len(changes.bans), l=len(changes.lifted), n=len(self.bans))
        self._ban_change = changes.last
        if changes.bans:
            self.enforce_bans(changes.bans)
        return None

    def prune_store(self) -> defer.Deferred:
        """Delete expired bans from the store, in a worker, a batch at a time;
        the change feed then tells this server they are gone."""
        d = self.pool.run(_prune_bans, self.store)
        return d.addErrback(lambda f: log.error("could not prune bans: {e}", e=f.value))

    def _reload(self, what: str, version_of: Callable[[], int], load: Callable[[Any], None],
                read: Callable[..., Any], *args: Any) -> defer.Deferred:
        """C{load(read(*args))} if the store's version of C{what} moved.

        The version is remembered only once the load is done, so a read that
        fails is tried again at the next poll.
        """

        def check(version: int) -> defer.Deferred | None:
            if version == self._versions.get(what):
                return None
            return self.pool.run(read, *args).addCallback(loaded, version)

        def loaded(data: Any, version: int) -> None:
            load(data)
            self._versions[what] = version

        d = self.pool.run(version_of).addCallback(check)
        return d.addErrback(lambda f: log.error("could not read {what}: {e}", what=what, e=f.value))

    def _load_bans(self, bans: BanList, change: int) -> None:
        self.bans.take(bans)
        self._ban_change = change
        log.info("Bans reloaded: {n} in force", n=len(self.bans))
        self.enforce_bans()

    def _load_accounts(self, accounts: tuple[Registered, frozenset[str]]) -> None:
        """New accounts and sysops from outside; a role taken away or an
        account deleted reaches the sessions using it now, not at their next
        login."""
        self.registered, self.sysops = accounts
        log.info("Accounts reloaded: {n} registered, {s} sysops",
                 n=len(self.registered), s=len(self.sysops))
        for s in list(self.sessions):
            if s.account is None:
                continue
            key = fold(s.account)
            if key not in self.registered:
                s.account_deleted()
            elif s.sysop != (key in self.sysops):
                s.role_changed(key in self.sysops)

    # -- what sessions change -------------------------------------------------

    def mute_address(self, ip: str, until: float | None) -> None:
        """Keep C{ip} muted until then (C{None}: until a sysop unmutes it), so
        that reconnecting does not unmute it."""
        self.mutes[ip] = until

    def unmute_address(self, ip: str) -> None:
        self.mutes.pop(ip, None)

    def sighted(self, sighting: Sighting) -> None:
        """Remember a trapped bot for /bots (the latest L{SIGHTINGS})."""
        self.sightings.append(sighting)

    def note_account(self, nick: str) -> None:
        """C{nick} is an account registered just now, so that login: tells it
        from a free name before the next poll of the store."""
        self.registered = Registered.of(self.registered).adding(nick)

    # -- housekeeping ---------------------------------------------------------

    def sweep(self) -> None:
        now = self.clock.seconds()
        for s in list(self.sessions):
            s.sweep(now)

    def shutdown_in(self, delay: float, message: str, by: str) -> None:
        """Count down in notices to everyone, then stop the server (exit 0)."""
        if self._shutdown is not None and self._shutdown.running:
            self._shutdown.stop()
        end = self.clock.seconds() + delay
        said = f" {message}" if message else ""

        def tick() -> None:
            left = round(end - self.clock.seconds())
            if left <= 0:
                self._shutdown.stop()
                self.hub.wall(Message((Span(f"*** The server is stopping now.{said}", "bold"),)))
                if self.stop is not None:
                    self.stop()
            elif left in (1, 2, 3, 5, 10, 30) or left % 60 == 0 or left == round(delay):
                self.hub.wall(Message((Span(
                    f"*** {by} is stopping the server in {format_duration(left)}.{said}", "bold"
                ),)))

        self._shutdown = LoopingCall(tick)
        self._shutdown.clock = self.clock
        self._shutdown.start(1.0, now=True)


def _read_bans(store: IStore, clock: Any) -> BanList:
    """Every ban in force, filed in a list of its own (in a worker: a hundred
    thousand bans take a second to file, which the reactor does not wait for)."""
    bans = BanList(clock)
    bans.replace(store.ban_rows(clock.seconds()))
    return bans


def _prune_bans(store: IStore) -> int:
    """Delete expired bans batch by batch, each its own short transaction (in a worker)."""
    pruned = 0
    for _ in range(PRUNE_BATCHES):
        batch = store.prune_bans()
        pruned += batch
        if batch < PRUNE_BATCH:
            break
    return pruned


def _accounts(store: IStore) -> tuple[Registered, frozenset[str]]:
    """Every account indexed by look-alike key, and the sysops' folded names
    (blocks: run it in a worker)."""
    accounts = store.list_accounts()
    return (Registered.of(a.nick for a in accounts),
            frozenset(fold(a.nick) for a in accounts if a.is_sysop))
