"""The store's schema, as the steps that build it: the database records in
C{PRAGMA user_version} how many it has taken, and L{bbs.store.sqlite} takes
the rest at open."""

# Append-only: a released step is never edited, a change is a new step.
# Each step is a sequence of single statements (executescript would commit).
MIGRATIONS: tuple[tuple[str, ...], ...] = (
    (
        """CREATE TABLE accounts (
            nick_key TEXT PRIMARY KEY,
            nick TEXT NOT NULL,
            password_hash TEXT NOT NULL,
            is_sysop INTEGER NOT NULL DEFAULT 0 CHECK (is_sysop IN (0, 1)),
            created REAL NOT NULL,
            last_seen REAL
        )""",
        """CREATE TABLE mail (
            id INTEGER PRIMARY KEY,
            recipient_key TEXT NOT NULL
                REFERENCES accounts (nick_key) ON DELETE CASCADE,
            sender TEXT NOT NULL,
            sent REAL NOT NULL,
            text TEXT NOT NULL,
            is_read INTEGER NOT NULL DEFAULT 0 CHECK (is_read IN (0, 1))
        )""",
        "CREATE INDEX mail_by_recipient ON mail (recipient_key, id)",
        """CREATE TABLE boards (
            id INTEGER PRIMARY KEY,
            name_key TEXT NOT NULL UNIQUE,
            name TEXT NOT NULL,
            description TEXT NOT NULL,
            post_role TEXT NOT NULL CHECK (post_role IN ('registered', 'sysop'))
        )""",
        """CREATE TABLE posts (
            id INTEGER PRIMARY KEY,
            board_id INTEGER NOT NULL REFERENCES boards (id) ON DELETE CASCADE,
            number INTEGER NOT NULL,
            author TEXT NOT NULL,
            subject TEXT NOT NULL,
            body TEXT NOT NULL,
            posted REAL NOT NULL,
            UNIQUE (board_id, number)
        )""",
        """INSERT INTO boards (name_key, name, description, post_role) VALUES
            ('general', 'general', 'Anything goes.', 'registered'),
            ('announcements', 'announcements', 'News from the sysops.', 'sysop')""",
        """CREATE TABLE bans (
            id INTEGER PRIMARY KEY,
            kind TEXT NOT NULL CHECK (kind IN ('net', 'nick')),
            target TEXT NOT NULL,
            target_key TEXT NOT NULL,
            reason TEXT NOT NULL,
            set_by TEXT NOT NULL,
            created REAL NOT NULL,
            expires REAL,
            UNIQUE (kind, target_key)
        )""",
    ),
    (
        """CREATE TABLE history (
            id INTEGER PRIMARY KEY,
            room_key TEXT NOT NULL,
            room TEXT NOT NULL,
            nick TEXT NOT NULL,
            text TEXT NOT NULL,
            kind TEXT NOT NULL,
            at REAL NOT NULL
        )""",
        "CREATE INDEX history_by_room ON history (room_key, id)",
        """CREATE TABLE counters (
            name TEXT PRIMARY KEY,
            value INTEGER NOT NULL
        )""",
        "INSERT INTO counters (name, value) VALUES ('bans', 0)",
        """CREATE TRIGGER bans_inserted AFTER INSERT ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
        """CREATE TRIGGER bans_updated AFTER UPDATE ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
        """CREATE TRIGGER bans_deleted AFTER DELETE ON bans BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'bans';
        END""",
    ),
    (
        "INSERT INTO counters (name, value) VALUES ('accounts', 0)",
        """CREATE TRIGGER accounts_inserted AFTER INSERT ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
        """CREATE TRIGGER accounts_deleted AFTER DELETE ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
    ),
    (
        # A sysop's role taken away must reach their sessions at the next poll.
        """CREATE TRIGGER accounts_role_changed AFTER UPDATE OF is_sysop ON accounts BEGIN
            UPDATE counters SET value = value + 1 WHERE name = 'accounts';
        END""",
    ),
    (
        # Every change to a ban, by target, so the server reads what changed
        # since it last looked instead of every ban (see ban_changes).
        """CREATE TABLE ban_changes (
            id INTEGER PRIMARY KEY AUTOINCREMENT,
            kind TEXT NOT NULL,
            target_key TEXT NOT NULL
        )""",
        """CREATE TRIGGER ban_changes_inserted AFTER INSERT ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) VALUES (new.kind, new.target_key);
        END""",
        """CREATE TRIGGER ban_changes_updated AFTER UPDATE ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) SELECT old.kind, old.target_key
                WHERE old.kind IS NOT new.kind OR old.target_key IS NOT new.target_key;
            INSERT INTO ban_changes (kind, target_key) VALUES (new.kind, new.target_key);
        END""",
        """CREATE TRIGGER ban_changes_deleted AFTER DELETE ON bans BEGIN
            INSERT INTO ban_changes (kind, target_key) VALUES (old.kind, old.target_key);
        END""",
        # Expired bans are pruned in batches, oldest first.
        "CREATE INDEX bans_by_expiry ON bans (expires) WHERE expires IS NOT NULL",
    ),
    (
        # Public keys a user logs in with over SSH; they go with the account.
        # The unique pair is also the index the SSH door's look-up uses.
        """CREATE TABLE account_keys (
            id INTEGER PRIMARY KEY,
            nick_key TEXT NOT NULL REFERENCES accounts (nick_key) ON DELETE CASCADE,
            algorithm TEXT NOT NULL,
            blob BLOB NOT NULL,
            comment TEXT NOT NULL,
            fingerprint TEXT NOT NULL,
            added REAL NOT NULL,
            UNIQUE (nick_key, blob)
        )""",
    ),
)
SCHEMA_VERSION = len(MIGRATIONS)
