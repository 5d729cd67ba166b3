"""The telnet layer: RFC 854/855 option negotiation and IAC parsing.

L{bbs.telnet.parser} is the protocol without I/O (bytes in, events out);
L{bbs.telnet.protocol} is the Twisted connection around it, which turns a
socket into application bytes with one kind of line end;
L{bbs.telnet.options} holds the RFC 1143 negotiation rules and
L{bbs.sockets} what is done to the sockets under Twisted.  It knows
nothing about chat.
"""
