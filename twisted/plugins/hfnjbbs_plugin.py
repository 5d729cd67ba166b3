"""The twistd plugin: `twistd -n hfnjbbs`.  A shim: the services are built in
L{bbs.service}, the server they run is L{bbs.server}."""

from twisted.application.service import ServiceMaker

hfnjbbs = ServiceMaker(
    "hfnjbbs",
    "bbs.service",
    "A multiuser telnet chat/BBS server that doubles as a bot honeypot.",
    "hfnjbbs",
)
