"""NEW-ENVIRON (RFC 1572): the variables a client sends about itself.

Parsed only to be logged: a login name a client sends this way (C{USER})
never reaches our login or anyone's identity.  It is how the 2026 inetutils
telnetd bypass (CVE-2026-24061) is tried: C{USER=-f root} becomes
C{login -f root}, a login without a password, on an unpatched server.
"""

from __future__ import annotations

from bbs.door import Variable

IS, SEND, INFO = 0, 1, 2
VAR, VALUE, ESC, USERVAR = 0, 1, 2, 3
MAX_VARIABLES = 32  # per subnegotiation; the subnegotiation's size bounds the rest
MAX_NAME, MAX_VALUE = 64, 512  # characters of each kept
_CONTROLS = bytes(range(32)) + b"\x7f"


def parse(sub: bytes) -> tuple[Variable, ...]:
    """The variables of a C{NEW-ENVIRON IS} or C{INFO} subnegotiation
    (C{sub} without the option byte, IAC doubling already undone); none for
    C{SEND}, which only a server sends, or anything else."""
    if not sub or sub[0] not in (IS, INFO):
        return ()
    found: list[Variable] = []
    kind: int | None = None
    name, value = bytearray(), None
    i, end = 1, len(sub)

    def finish() -> None:
        if kind is not None and len(found) < MAX_VARIABLES:
            found.append(Variable(_text(name)[:MAX_NAME],
                                  None if value is None else _text(value)[:MAX_VALUE],
                                  kind == USERVAR))

    while i < end:
        byte = sub[i]
        i += 1
        if byte in (VAR, USERVAR):
            finish()
            kind, name, value = byte, bytearray(), None
        elif byte == VALUE:
            if kind is not None and value is None:
                value = bytearray()
        else:
            if byte == ESC and i < end:
                byte = sub[i]
                i += 1
            if kind is not None:
                (name if value is None else value).append(byte)
    finish()
    return tuple(found)


def _text(raw: bytearray) -> str:
    """A name or value as logged: control characters dropped, bytes that are
    not UTF-8 escaped."""
    return bytes(raw).translate(None, _CONTROLS).decode("utf-8", "backslashreplace")
