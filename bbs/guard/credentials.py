"""Known bot credentials, and telling a user name glued to its password.

A bot that types its password before the line end of its user name (Mirai's
loader does, when it mistakes something on screen for the password prompt)
answers C{login:} with both in one line: C{rootxc3511}.  That line is a
credential attempt, logged as one with the name and the password apart, and
never anyone's nickname.

The table is Mirai's (C{add_auth_entry} in its public C{bot/scanner.c},
decoded), which its descendants kept and extended.
"""

from __future__ import annotations

import attrs

MIRAI: tuple[tuple[str, str], ...] = (
    ("root", "xc3511"), ("root", "vizxv"), ("root", "admin"), ("admin", "admin"),
    ("root", "888888"), ("root", "xmhdipc"), ("root", "default"), ("root", "juantech"),
    ("root", "123456"), ("root", "54321"), ("support", "support"), ("root", ""),
    ("admin", "password"), ("root", "root"), ("root", "12345"), ("user", "user"),
    ("admin", ""), ("root", "pass"), ("admin", "admin1234"), ("root", "1111"),
    ("admin", "smcadmin"), ("admin", "1111"), ("root", "666666"), ("root", "password"),
    ("root", "1234"), ("root", "klv123"), ("Administrator", "meinsm"),
    ("service", "service"), ("supervisor", "supervisor"), ("guest", "guest"),
    ("guest", "12345"), ("admin1", "password"), ("administrator", "1234"),
    ("666666", "666666"), ("888888", "888888"), ("ubnt", "ubnt"), ("root", "klv1234"),
    ("root", "Zte521"), ("root", "hi3518"), ("root", "jvbzd"), ("root", "anko"),
    ("root", "zlxx."), ("root", "7ujMko0vizxv"), ("root", "7ujMko0admin"),
    ("root", "system"), ("root", "ikwb"), ("root", "dreambox"), ("root", "user"),
    ("root", "realtek"), ("root", "00000000"), ("admin", "1111111"), ("admin", "1234"),
    ("admin", "12345"), ("admin", "54321"), ("admin", "123456"), ("admin", "7ujMko0admin"),
    ("admin", "4321"), ("admin", "pass"), ("admin", "meinsm"), ("tech", "tech"),
    ("mother", "fucker"),
)


@attrs.frozen
class Credential:
    username: str
    password: str


# Glued line -> the pair; a bot sends its table's bytes exactly, so case counts.
_GLUED: dict[str, Credential] = {}
for _user, _password in MIRAI:
    if _password:
        _GLUED.setdefault(_user + _password, Credential(_user, _password))


def unglue(line: str) -> Credential | None:
    """The known credential C{line} is a user name and password run together
    into, or C{None}."""
    return _GLUED.get(line.strip(" \t\r\n\x00"))
