"""Password hashing: argon2id through passlib (the C{libpass} distribution).

The parameters are OWASP's first recommended argon2id setting: 19 MiB of
memory (C{MEMORY_COST} = 19456 KiB), 2 passes (C{TIME_COST}) and one lane
(C{PARALLELISM}). On a small VPS one verification takes a few tens of
milliseconds, which is unnoticeable at login and expensive for anyone who
steals the database. When these constants change, stored hashes are upgraded
at the next successful login (L{verify_password} returns the replacement).

Every function here is slow on purpose and blocks: call them from a worker
thread, never from the reactor thread.

Passwords are normalised to NFC before hashing so that the same characters
typed on terminals that compose them differently still match.
"""

from __future__ import annotations

import unicodedata

from passlib.context import CryptContext
from passlib.exc import UnknownHashError

from bbs.pool import blocking

MEMORY_COST = 19456  # KiB, that is 19 MiB
TIME_COST = 2
PARALLELISM = 1

MIN_PASSWORD = 8
# Hashing cost grows with the input; nobody types more than this.
MAX_PASSWORD = 256


def make_context(
    memory_cost: int = MEMORY_COST,
    time_cost: int = TIME_COST,
    parallelism: int = PARALLELISM,
) -> CryptContext:
    """A passlib context that hashes with argon2id at the given cost.

    Hashes made with any other parameters verify, and are reported as
    needing an update.
    """
    return CryptContext(
        schemes=["argon2"],
        argon2__type="ID",
        argon2__memory_cost=memory_cost,
        argon2__rounds=time_cost,
        argon2__parallelism=parallelism,
    )


# The context used by the functions below. Tests replace it with a cheap one.
context: CryptContext = make_context()

# A hash of a random password nobody knows, made with the parameters above,
# so that checking a password for an account that does not exist costs what
# checking a real one costs (no account enumeration by timing).
DUMMY_HASH = (
    "$argon2id$v=19$m=19456,t=2,p=1$ZWxNqTXmXMvZuzemFGIMAQ"
    "$Z90Lyjl1pbSKjFa/0FSR1Yj2d4o+0fi5aro5V4MIhho"
)


def password_problem(password: str) -> str | None:
    """Why C{password} cannot be chosen, or C{None} if it can."""
    if len(password) < MIN_PASSWORD:
        return f"Password must be at least {MIN_PASSWORD} characters long."
    if len(password) > MAX_PASSWORD:
        return f"Password must be at most {MAX_PASSWORD} characters long."
    return None


def hash_password(password: str) -> str:
    """A salted argon2id hash of C{password}, safe to store."""
    blocking()
    return context.hash(_normal(password))


def verify_password(password: str, stored: str) -> tuple[bool, str | None]:
    """Check C{password} against the C{stored} hash.

    @return: whether it matches and, when it does and C{stored} was made with
        other parameters than the current ones, a replacement hash to store.
        A stored value that is not a hash this module knows never matches.
    """
    blocking()
    if len(password) > MAX_PASSWORD:
        return verify_unknown(password[:MAX_PASSWORD])
    try:
        return context.verify_and_update(_normal(password), stored)
    except (UnknownHashError, ValueError):
        return False, None


def verify_unknown(password: str) -> tuple[bool, None]:
    """Spend the time of a verification for an account that does not exist.

    @return: C{(False, None)}, the answer of L{verify_password} for a wrong
        password, so that callers handle both cases in one place.
    """
    blocking()
    context.verify(_normal(password[:MAX_PASSWORD]), DUMMY_HASH)
    return False, None


def _normal(password: str) -> str:
    return unicodedata.normalize("NFC", password)
