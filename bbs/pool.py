"""The worker pool that runs command handlers off the reactor thread.

A dedicated, bounded pool (not the reactor's shared one) so that slow
handlers -- password hashing, database work -- never starve Twisted's own
DNS or other deferToThread users, and so that an overload is refused at the
door instead of queueing without limit.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from twisted.application.service import Service
from twisted.internet.defer import Deferred, fail
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool


class Overloaded(Exception):
    """Too many jobs are waiting; the caller should tell the user to retry."""


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
