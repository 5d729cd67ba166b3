"""Persistence: accounts and their SSH keys, mail, boards, room history and bans.

L{IStore} (in L{bbs.store.interface}) is the boundary; L{SQLiteStore} (in
L{bbs.store.sqlite}) keeps everything in one SQLite file (C{bbs.sqlite3} in
the data directory) so that a PostgreSQL backend can be added later without
touching its callers.  The values it holds are in L{bbs.store.records}, its
refusals and failures in L{bbs.store.errors}, its bounds in
L{bbs.store.bounds}, the steps of its schema in L{bbs.store.schema}.

Every method blocks. Command handlers call them from worker threads; code on
the reactor thread hands each call to the worker pool (L{bbs.pool.WorkerPool.run})
and gets a Deferred back.

The rest of the server imports the store's names from here, its entry point.
"""

from bbs.store.bounds import (
    BAN_CHANGES_KEEP, BAN_CHANGES_READ, HISTORY_KEEP, HISTORY_LINES, KEYS_PER_ACCOUNT, MAILBOX_LIMIT,
    PRUNE_BATCH,
)
from bbs.store.errors import (
    AccountExists, KeyExists, MailboxFull, NoSuchAccount, NoSuchBoard, Refused, SchemaTooNew,
    StoreError, TooManyKeys,
)
from bbs.store.interface import IStore
from bbs.store.records import (
    Account, AccountKey, BanChanges, BanRecord, BanRow, BoardInfo, HistoryEntry, Mail, Post,
    PostHeader,
)
from bbs.store.sqlite import DATABASE_NAME, SQLiteStore

__all__ = [
    "BAN_CHANGES_KEEP", "BAN_CHANGES_READ", "DATABASE_NAME", "HISTORY_KEEP", "HISTORY_LINES",
    "KEYS_PER_ACCOUNT", "MAILBOX_LIMIT", "PRUNE_BATCH",
    "AccountExists", "KeyExists", "MailboxFull", "NoSuchAccount", "NoSuchBoard", "Refused",
    "SchemaTooNew", "StoreError", "TooManyKeys",
    "IStore", "SQLiteStore",
    "Account", "AccountKey", "BanChanges", "BanRecord", "BanRow", "BoardInfo", "HistoryEntry", "Mail", "Post",
    "PostHeader",
]
