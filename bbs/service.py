"""From command-line options to a running service tree.

`twistd -n hfnjbbs` goes through the plugin shim to L{Options} and
L{makeService}.  Every option is checked in L{Options.postOptions}, so a bad
value is a usage error before anything listens.
"""

from __future__ import annotations

import os
import signal
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService, Service
from twisted.internet import defer, endpoints
from twisted.internet.protocol import Factory
from twisted.logger import Logger
from twisted.python import usage

from bbs import commands
from bbs.events import IEventSink, JsonEventLog, make_event
from bbs.guard.limits import LoginThrottle
from bbs.history import HistoryWriter
from bbs.hub import LOBBY, Hub
from bbs.pool import WorkerPool
from bbs.session import Session
from bbs.store import DATABASE_NAME, IStore, SQLiteStore
from bbs.telnet.protocol import TelnetConnection

log = Logger()

DEFAULT_PORT = "tcp:2323"
SHUTDOWN_GRACE = 5.0


def default_motd() -> Path:
    return Path(str(resources.files("bbs") / "motd.txt"))


@attrs.frozen
class Config:
    ports: tuple[str, ...] = (DEFAULT_PORT,)
    data: Path = Path("hfnjbbs-data")
    motd: Path = attrs.field(factory=default_motd)
    workers: int = 4
    sensor: str = "hfnjbbs"


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = "A multiuser telnet chat/BBS server that doubles as a bot honeypot."
    optParameters = [
        ["data", "d", "hfnjbbs-data", "Data directory (created if missing)."],
        ["motd", "m", None, "Message of the day file (default: the shipped motd.txt)."],
        ["workers", "w", "4", "Worker threads for command handlers (1-64)."],
        ["sensor", None, "hfnjbbs", "Sensor name written into every event."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []

    def opt_port(self, endpoint: str) -> None:
        """Listen on a Twisted endpoint string (repeatable; default tcp:2323)."""
        from twisted.internet import reactor

        try:
            endpoints.serverFromString(reactor, endpoint)
        except (ValueError, TypeError, KeyError) as e:
            raise usage.UsageError(f"--port {endpoint!r}: not a valid endpoint ({e})")
        self["ports"].append(endpoint)

    opt_p = opt_port

    def postOptions(self) -> None:
        try:
            workers = int(self["workers"])
        except ValueError:
            raise usage.UsageError(f"--workers {self['workers']!r}: not a number")
        if not 1 <= workers <= 64:
            raise usage.UsageError(f"--workers {workers}: must be from 1 to 64")
        motd = Path(self["motd"]) if self["motd"] else default_motd()
        try:
            motd.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise usage.UsageError(f"--motd {str(motd)!r}: cannot read it ({e})")
        data = Path(self["data"])
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise usage.UsageError(f"--data {str(data)!r}: cannot create it ({e})")
        if not os.access(data, os.W_OK | os.X_OK):
            raise usage.UsageError(f"--data {str(data)!r}: not writable")
        self.config = Config(
            ports=tuple(self["ports"]) or (DEFAULT_PORT,),
            data=data,
            motd=motd,
            workers=workers,
            sensor=self["sensor"],
        )


class InOrder(MultiService):
    """Stops its children one at a time, the last started first.

    Twisted's MultiService stops them all at once; we need the listeners
    closed before the goodbyes, the goodbyes before the last history flush,
    and that flush before the store and the worker pool go away.
    """

    @defer.inlineCallbacks
    def stopService(self):
        Service.stopService(self)
        for service in reversed(list(self)):
            yield defer.maybeDeferred(service.stopService)


class StoreService(Service):
    """Opens the database in startService: after twistd forks, never before."""

    name = "store"

    def __init__(self, store: SQLiteStore) -> None:
        self.store = store

    def startService(self) -> None:
        self.store.open()
        super().startService()

    def stopService(self) -> None:
        super().stopService()
        self.store.close()


class BBS(Service):
    """The server's shared state: hub, sessions, command registry, events.

    Stopping it tells everyone and closes every connection, so SIGTERM is a
    clean goodbye rather than a dropped socket.
    """

    name = "bbs"

    def __init__(self, config: Config, pool: WorkerPool, events: IEventSink,
                 clock: Any, store: IStore | None = None) -> None:
        self.config = config
        self.pool = pool
        self.events = events
        self.clock = clock
        self.store = store
        self.history = HistoryWriter(store, pool, clock) if store is not None else None
        self.hub = Hub(clock, self.history)
        self.throttle = LoginThrottle(clock)
        self.commands = commands.load()
        self.sessions: set[Session] = set()
        self.motd = config.motd.read_text(encoding="utf-8").rstrip("\n")

    def startService(self) -> None:
        if self.store is not None:
            self.hub.seed(LOBBY, self.store.recent_history(LOBBY))
        super().startService()

    def emit(self, eventid: str, **fields: Any) -> None:
        self.events.emit(make_event(
            eventid, sensor=self.config.sensor, when=self.clock.seconds(), **fields
        ))

    def factory(self) -> Factory:
        return Factory.forProtocol(lambda: TelnetConnection(Session(self), clock=self.clock))

    def stopService(self) -> defer.Deferred:
        super().stopService()
        sessions = list(self.sessions)
        if not sessions:
            return defer.succeed(None)
        gone = [s.gone for s in sessions]
        for s in sessions:
            s.close("The server is shutting down. Goodbye.")
        d = defer.DeferredList(gone)
        timeout = self.clock.callLater(SHUTDOWN_GRACE, lambda: [
            s.telnet.abort("shutdown") for s in sessions if s.telnet is not None
        ])
        return d.addBoth(lambda _: timeout.active() and timeout.cancel())


def _exit_zero_on_sigterm(reactor: Any) -> None:
    """SIGTERM is how a sysop stops us on purpose: a clean stop, exit status 0.

    twistd would otherwise re-raise the signal after shutdown so that the
    process dies of it, which service managers report as a failure.
    """

    def stop(signum: int, frame: Any) -> None:
        log.info("Received SIGTERM, saying goodbye and shutting down.")
        reactor.callFromThread(reactor.stop)

    signal.signal(signal.SIGTERM, stop)


def makeService(options: Options) -> MultiService:
    from twisted.internet import reactor

    reactor.callWhenRunning(_exit_zero_on_sigterm, reactor)

    config: Config = options.config
    top = InOrder()
    pool = WorkerPool(reactor, config.workers)
    pool.setServiceParent(top)
    store = SQLiteStore(config.data / DATABASE_NAME)
    StoreService(store).setServiceParent(top)
    events = JsonEventLog(config.data, sensor=config.sensor, clock=reactor)
    events.setServiceParent(top)
    bbs = BBS(config, pool, events, reactor, store)
    bbs.history.setServiceParent(top)
    bbs.setServiceParent(top)
    factory = bbs.factory()
    for port in config.ports:
        endpoint = endpoints.serverFromString(reactor, port)
        listener = StreamServerEndpointService(endpoint, factory)
        listener._raiseSynchronously = True
        listener.setServiceParent(top)
    return top
