"""The store seen from the reactor thread, for tests that drive it through a pool.

The server hands each store call to L{bbs.pool.WorkerPool.run}; this narrower
wrapper lets a test run the store's methods in any thread pool, real or
immediate, and forwards only what L{IStore} declares.
"""

from __future__ import annotations

from typing import Any

from twisted.internet.defer import Deferred
from twisted.internet.interfaces import IReactorFromThreads
from twisted.internet.threads import deferToThreadPool
from twisted.python.threadpool import ThreadPool

from bbs.store import IStore


class DeferredStore:
    """An L{IStore} seen from the reactor thread: every call is a Deferred.

    C{DeferredStore(store, pool, reactor).call("get_account", "alice")} runs
    C{store.get_account("alice")} in C{pool} and fires with its result (or
    fails with its exception) back on the reactor thread.
    """

    def __init__(self, store: IStore, pool: ThreadPool, reactor: IReactorFromThreads) -> None:
        self.store = store
        self._pool = pool
        self._reactor = reactor

    def call(self, method: str, *args: object, **kwargs: object) -> Deferred[Any]:
        if method not in IStore:
            raise AttributeError(f"IStore has no method {method!r}")
        return deferToThreadPool(
            self._reactor, self._pool, getattr(self.store, method), *args, **kwargs
        )
