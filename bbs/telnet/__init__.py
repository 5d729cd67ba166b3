"""The telnet layer: RFC 854/855 option negotiation and IAC parsing.

L{bbs.telnet.protocol} turns a socket into application bytes with one kind
of line end; L{bbs.telnet.options} holds the RFC 1143 negotiation rules.  It
knows nothing about chat.
"""
