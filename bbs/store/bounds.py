"""How much the store keeps: bounds on what one user can make the server
keep, and on how much of the ban log is kept and read at once."""

# Bounds on what one user can make the server keep.
MAILBOX_LIMIT = 100
HISTORY_KEEP = 200
KEYS_PER_ACCOUNT = 16  # SSH public keys one account may hold
# Lines of a room replayed to who joins it: the hub keeps as many in memory
# and the history writer saves no more per room in one batch.
HISTORY_LINES = 20
BAN_CHANGES_KEEP = 10_000  # a reader further behind than this reads every ban again
BAN_CHANGES_READ = 10_000  # changes read in one go
PRUNE_BATCH = 1_000  # expired bans deleted in one transaction
