"""What tests read of a store beyond L{IStore}: the accounts as the server
holds them in memory, and the schema's ban counter, which no caller reads
any more but an upgraded file must still keep."""

from __future__ import annotations

import sqlite3
from contextlib import closing
from pathlib import Path

from bbs.store import IStore
from bbs.text import fold


def account_keys(store: IStore) -> frozenset[str]:
    """The folded nickname of every account, read as the server reads them."""
    return frozenset(fold(account.nick) for account in store.list_accounts())


def bans_counter(path: Path) -> int:
    """The count schema version 2 keeps of the changes to the bans."""
    with closing(sqlite3.connect(f"file:{path}?mode=ro", uri=True)) as db:
        (value,) = db.execute("SELECT value FROM counters WHERE name = 'bans'").fetchone()
    return int(value)
