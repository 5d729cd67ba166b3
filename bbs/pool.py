"""The worker pool that runs blocking command handlers off the reactor thread.

A dedicated, bounded pool (not the reactor's shared one) so that slow
handlers -- password hashing, database work -- never starve Twisted's own
DNS or other deferToThread users, and so that an overload is refused at the
door instead of queueing without limit.

Most commands never block (C{/who}, C{/msg}, C{/join} into a room that is
already open), and a trip through a thread costs more than they do: two
context switches and a wake-up of the reactor, on a machine where every
thread shares the interpreter lock.  So a handler is first tried on the
reactor thread with L{try_here}; whatever would block -- touching
the store (a L{WorkerOnly} stand-in there) or hashing a password (which calls
L{blocking}) -- raises L{NeedsWorker} before it starts, and the caller then
runs the handler again in the pool.  Handlers are pure functions of their
snapshot, so the second run sees exactly what the first did.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool


class Overloaded(Exception):
    """Too many jobs are waiting; the caller should tell the user to retry."""


class NeedsWorker(Exception):
    """Blocking work was about to start on the reactor thread (see L{blocking})."""


_here = threading.local()


def blocking() -> None:
    """Say that blocking work starts now; refused while a call is tried here."""
    if getattr(_here, "trying", False):
        raise NeedsWorker()


class WorkerOnly:
    """Stands in for something only workers may use (the store) during L{try_here}."""

    def __getattr__(self, name: str) -> Any:
        raise NeedsWorker(name)


WORKER_ONLY = WorkerOnly()


def try_here(f: Callable[..., Any], *args: Any) -> Any:
    """C{f(*args)} on this thread, unless it would block: then L{NeedsWorker}."""
    _here.trying = True
    try:
        return f(*args)
    finally:
        _here.trying = False


class WorkerPool(Service):
    name = "workers"

    def __init__(self, reactor, size: int = 4, queue_limit: int = 1000) -> None:
        self.reactor = reactor
        self.queue_limit = queue_limit
        self.threadpool = ThreadPool(minthreads=1, maxthreads=size, name="hfnjbbs-worker")
        self._waiting = 0

    def startService(self) -> None:
        super().startService()
        self.threadpool.start()

    def stopService(self) -> Deferred | None:
        super().stopService()
        # Joining the threads blocks until running handlers finish; do it in
        # a thread of the reactor's own pool so the reactor keeps spinning.
        return deferToThreadPool(
            self.reactor, self.reactor.getThreadPool(), self.threadpool.stop
        )

    def run(self, f: Callable[..., Any], *args: Any) -> Deferred:
        """Run C{f(*args)} in a worker; the Deferred fires on the reactor thread."""
        if self._waiting >= self.queue_limit:
            return fail(Overloaded("The server is busy; try again in a moment."))
        self._waiting += 1
        d = deferToThreadPool(self.reactor, self.threadpool, f, *args)

        def done(result: Any) -> Any:
            self._waiting -= 1
            return result

        return d.addBoth(done)
