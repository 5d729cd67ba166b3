"""hfnjbbs: a multiuser telnet chat/BBS server that doubles as a bot honeypot."""

__version__ = "0.1.0"
