"""A listening port's accept-loop log, within limits.

Out of file descriptors, Twisted's accept loop logs a line per refused
accept, at every turn of the reactor while the port stays readable:
thousands of lines a second, which fill the disk and hide everything else.
"""

from __future__ import annotations

from twisted.internet.interfaces import IReactorCore, IReactorTime
from twisted.logger import ILogObserver, Logger, LogEvent
from zope.interface import implementer

from bbs.rates import RateLimit

log = Logger()

# Lines of each kind a listening port's accept loop logs per ACCEPT_LOG_PER
# seconds (EMFILE: "Could not accept new connection", a line per socket
# closed to recover); the rest are counted and summed up in one line when
# the window ends.
ACCEPT_LOG_RATE = 1
ACCEPT_LOG_PER = 60.0


@implementer(ILogObserver)
class AcceptLog:
    """A listening port's accept-loop log, at most L{ACCEPT_LOG_RATE} lines
    of each kind a minute.

    One line of each kind says what happened; the rest are counted and
    summed up in one line when the minute ends (or at shutdown).
    """

    def __init__(self, observer: ILogObserver, clock: IReactorTime) -> None:
        self._observer = observer
        self._limit = RateLimit(clock, ACCEPT_LOG_RATE, ACCEPT_LOG_PER, self._suppressed)

    def __call__(self, event: LogEvent) -> None:
        if self._limit.allow(str(event.get("log_format"))):
            self._observer(event)

    def close(self) -> None:
        """Sum up what is counted so far."""
        self._limit.close()

    @staticmethod
    def _suppressed(kind: str, count: int) -> None:
        log.info(
            "{count} more accept-loop log lines like {kind!r} were not written "
            "(limit {rate} per {per:g} s)",
            count=count, kind=kind, rate=ACCEPT_LOG_RATE, per=ACCEPT_LOG_PER,
        )


def quiet_accept_loop(port: object) -> None:
    """Send the log of C{port}'s accept loop (a Twisted TCP port's
    C{_logger}) through an L{AcceptLog}; other ports are left alone."""
    logger = getattr(port, "_logger", None)
    reactor = getattr(port, "reactor", None)
    if not isinstance(logger, Logger) or not IReactorTime.providedBy(reactor):
        return
    if isinstance(logger.observer, AcceptLog):
        return
    accept_log = AcceptLog(logger.observer, reactor)
    port._logger = Logger(  # type: ignore[attr-defined]
        namespace=logger.namespace, source=port, observer=accept_log
    )
    if IReactorCore.providedBy(reactor):
        reactor.addSystemEventTrigger("before", "shutdown", accept_log.close)
