"""How the store says no: L{StoreError} when the database could not be read
or written, a L{Refused} subclass when a request is not carried out."""

class StoreError(Exception):
    """The database could not be read or written; nothing was changed.

    The message says what failed; callers tell the user to try later.
    """


class SchemaTooNew(StoreError):
    """The database was written by a newer hfnjbbs than this one."""


class Refused(Exception):
    """A request the store will not carry out; the message is for the user."""


class AccountExists(Refused):
    pass


class NoSuchAccount(Refused):
    pass


class NoSuchBoard(Refused):
    pass


class MailboxFull(Refused):
    pass


class KeyExists(Refused):
    pass


class TooManyKeys(Refused):
    pass
