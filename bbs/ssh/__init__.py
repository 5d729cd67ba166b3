"""The SSH door: people and bots come in over SSH (twisted.conch) to the same
session, commands and traps as by telnet.

A door package like L{bbs.telnet} and L{bbs.web}: nothing above the doors
imports it.  L{bbs.ssh.hostkeys} holds the server's own keys, made on the
first start in the data directory; L{bbs.ssh.transport} bounds conch's
transport at its edge and L{bbs.ssh.hassh} reads a client's key exchange.
"""
