"""From options to a running service tree: the twistd glue.

`twistd -n hfnjbbs` goes through the plugin shim to L{Options} and
L{makeService}, which builds the services (store, worker pool, event log,
history, the server L{bbs.server.BBS}, a listener per port of each door:
telnet, the browser's, SSH) in the order they start and stop.  The server's
logic lives in L{bbs.server}.
"""

from __future__ import annotations

import gc
import signal
from functools import partial
from typing import Any

from twisted.application.internet import StreamServerEndpointService
from twisted.application.service import MultiService, Service
from twisted.internet import defer, endpoints
from twisted.internet.interfaces import IStreamServerEndpoint
from twisted.internet.protocol import Factory, Protocol
from twisted.logger import ILogObserver, Logger
from twisted.python.components import Componentized
from zope.interface import implementer

from bbs import twistd_log
from bbs.config import Config, Options
from bbs.events import JsonEventLog
from bbs.guard.addresses import NetworkSet
from bbs.pool import WorkerPool
from bbs.server import BBS
from bbs.session import Session
from bbs.store import DATABASE_NAME, SQLiteStore
from bbs.telnet.limits import TelnetLimits
from bbs.telnet.protocol import TelnetConnection
from bbs.sockets import SocketLimits, tune_listener
from bbs.turns import at_turn_end
from bbs.ssh.door import SSHLimits
from bbs.ssh.factory import SSHDoorFactory
from bbs.ssh.hostkeys import HostKeyError, host_keys
from bbs.web.door import WebLimits
from bbs.web.site import WebDoorFactory, web_site

__all__ = ["Options", "makeService", "service_tree"]

log = Logger()

GC_YOUNG = 20_000  # allocations between young-generation collections (CPython: 700)


class Refusal(Protocol):
    """Says one line and hangs up: for banned addresses and over-limit ones.

    It runs before any telnet negotiation, so a refused client costs one
    write and no session.
    """

    def __init__(self, line: str) -> None:
        self.line = line

    def connectionMade(self) -> None:
        self.transport.write(self.line.encode("utf-8") + b"\r\n")
        self.transport.loseConnection()


class TelnetFactory(Factory):
    def __init__(self, bbs: "BBS") -> None:
        self.bbs = bbs
        self.limits = TelnetLimits(dead_peer=bbs.config.dead_peer_timeout)

    def buildProtocol(self, addr: Any) -> Protocol:
        refusal = self.bbs.admit(getattr(addr, "host", ""))
        if refusal is not None:
            return Refusal(refusal)
        return TelnetConnection(Session(self.bbs), clock=self.bbs.clock, coalesce=True,
                                limits=self.limits)


@implementer(IStreamServerEndpoint)
class _Tuned:
    """An endpoint that gives its listening socket the options every
    connection of its door wants, to be handed down to each (L{tune_listener})."""

    def __init__(self, endpoint: IStreamServerEndpoint, limits: SocketLimits) -> None:
        self._endpoint = endpoint
        self._limits = limits

    def listen(self, factory: Factory) -> defer.Deferred:
        return self._endpoint.listen(factory).addCallback(tune_listener, self._limits)


class InOrder(MultiService):
    """Stops its children one at a time, the last started first.

    Twisted's MultiService stops them all at once; we need the listeners
    closed before the goodbyes, the goodbyes before the last history flush,
    that flush before the worker pool has done its last job, and that job
    before the store closes.
    """

    log_observer: ILogObserver | None = None

    def setServiceParent(self, parent: Any) -> None:
        """Joining twistd's application, hand it our log observer, if any:
        twistd logs through an application's own before making one."""
        if self.log_observer is not None and isinstance(parent, Componentized) \
                and parent.getComponent(ILogObserver) is None:
            parent.setComponent(ILogObserver, self.log_observer)
        super().setServiceParent(parent)

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


def _exit_zero_on_sigterm(reactor: Any) -> None:
    """SIGTERM is how a sysop stops us on purpose: a clean stop, exit status 0.

    twistd would otherwise re-raise the signal after shutdown so that the
    process dies of it, which service managers report as a failure.
    """

    def stop(signum: int, frame: Any) -> None:
        log.info("Received SIGTERM, saying goodbye and shutting down.")
        reactor.callFromThread(reactor.stop)

    signal.signal(signal.SIGTERM, stop)


def _tune_gc() -> None:
    """Collect garbage less often than CPython's defaults, which suit scripts.

    Each line delivered allocates a few small containers, so the default
    young-generation threshold (700) ran a collection every few hundred
    deliveries: a tenth of the CPU of a login storm.  What exists once the
    server is up (modules, Twisted, the trap rules) is never garbage, so it
    is frozen out of the full collections that walk every live object.
    """
    gc.freeze()
    gc.set_threshold(GC_YOUNG, *gc.get_threshold()[1:])


def makeService(options: Options) -> MultiService:
    from twisted.internet import reactor

    reactor.callWhenRunning(_exit_zero_on_sigterm, reactor)
    reactor.callWhenRunning(_tune_gc)
    return service_tree(reactor, options.config)


def service_tree(reactor: Any, config: Config) -> InOrder:
    """The services of a server, in the order they start; they stop the other way.

    The store opens first and closes last, after the worker pool has run
    every job queued on it: a session's last words (its last-seen time, a
    bot's ban), written on its way out at a shutdown, are saved.
    """
    top = InOrder()
    if config.log_file is not None:
        top.log_observer = twistd_log.observer(
            twistd_log.bounded_log(config.log_file, config.log_size, config.log_keep)
        )
    store = SQLiteStore(config.data / DATABASE_NAME)
    StoreService(store).setServiceParent(top)
    pool = WorkerPool(reactor, config.workers)
    pool.setServiceParent(top)
    events = JsonEventLog(config.data, sensor=config.sensor, clock=reactor,
                          at_turn_end=partial(at_turn_end, reactor))
    events.setServiceParent(top)
    bbs = BBS(config, pool, events, reactor, store, stop=reactor.stop)
    bbs.history.setServiceParent(top)
    bbs.setServiceParent(top)
    factory = TelnetFactory(bbs)
    for port in config.ports:
        endpoint = _Tuned(endpoints.serverFromString(reactor, port), factory.limits)
        _listen(top, endpoint, factory)
    if config.web:
        limits = WebLimits(dead_peer=config.dead_peer_timeout)
        site = web_site(WebDoorFactory(
            admit=bbs.admit, make_app=partial(Session, bbs), clock=reactor, limits=limits,
            proxies=NetworkSet(config.web_proxies), origins=frozenset(config.web_origins)))
        for port in config.web:
            _listen(top, _Tuned(endpoints.serverFromString(reactor, port), limits), site)
    if config.ssh:
        ssh_limits = SSHLimits(handshake=config.login_timeout, dead_peer=config.dead_peer_timeout)
        try:
            keys = host_keys(config.data)
        except HostKeyError as e:
            raise SystemExit(f"hfnjbbs: {e}") from None
        ssh = SSHDoorFactory(keys=keys, admit=bbs.admit,
                             make_app=partial(Session, bbs), clock=reactor, limits=ssh_limits)
        for port in config.ssh:
            _listen(top, _Tuned(endpoints.serverFromString(reactor, port), ssh_limits), ssh)
    return top


def _listen(top: InOrder, endpoint: IStreamServerEndpoint, factory: Factory) -> None:
    listener = StreamServerEndpointService(endpoint, factory)
    listener._raiseSynchronously = True  # a port in use stops the start, with the reason
    listener.setServiceParent(top)
