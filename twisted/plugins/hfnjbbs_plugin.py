"""The twistd plugin: `twistd -n hfnjbbs`.  All logic lives in L{bbs.service}."""

from twisted.application.service import ServiceMaker

hfnjbbs = ServiceMaker(
    "hfnjbbs",
    "bbs.service",
    "A multiuser telnet chat/BBS server that doubles as a bot honeypot.",
    "hfnjbbs",
)
