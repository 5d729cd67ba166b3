"""The programs of the fake device: ash built-ins and BusyBox applets.

Each is a plain function C{(shell, io, argv) -> exit status}, registered by
name in L{registry}, one module a family (L{text}, L{files}, L{system},
L{network}, L{coreutils}, L{builtins}); L{programs} dispatches to them.
Output is written the way the real applet writes it, down to the error
wording, since loaders decide what to do next by matching it.  Network
applets only record what they were asked to fetch and fail the way a
firewalled box does; no applet touches anything outside the shell's own
virtual filesystem.
"""
