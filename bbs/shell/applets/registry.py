"""The one table of the device's programs: every applet and built-in
registers here by decorator, and here are the helpers they share to read
options and operands the way BusyBox does (its getopt, its usage text)."""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable, Mapping, Sequence

import attrs

from bbs.shell.applets.program import Handler, Io, Shell
from bbs.shell.fs import FsError



@attrs.frozen
class Applet:
    name: str
    run: Handler
    where: str
    usage: str


APPLETS: dict[str, Applet] = {}
BUILTINS: dict[str, Handler] = {}


def applet(where: str, usage: str, *names: str) -> Callable[[Handler], Handler]:
    """Register a BusyBox applet installed as a link in C{where}."""
    def register(fn: Handler) -> Handler:
        for name in names or (fn.__name__.rstrip("_"),):
            APPLETS[name] = Applet(name, fn, where, usage)
        return fn
    return register


def builtin(*names: str) -> Callable[[Handler], Handler]:
    """Register an ash built-in, found before any file on C{PATH}."""
    def register(fn: Handler) -> Handler:
        for name in names:
            BUILTINS[name] = fn
        return fn
    return register


class BadUsage(Exception):
    """Bad options; C{str()} is the complaint printed before the usage text."""


def options(argv: Sequence[str], spec: str,
            longs: Mapping[str, bool] | None = None) -> tuple[dict[str, list[str]], list[str]]:
    """getopt as BusyBox does it: C{spec} letters (C{x:} takes a value), long
    options in C{longs} (name -> takes a value), options may follow operands."""
    name = posixpath.basename(argv[0])
    found: dict[str, list[str]] = {}
    operands: list[str] = []
    i = 1
    while i < len(argv):
        arg = argv[i]
        if arg == "--":
            operands.extend(argv[i + 1:])
            break
        if arg.startswith("--"):
            key, eq, value = arg[2:].partition("=")
            if longs is None or key not in longs:
                raise BadUsage(f"{name}: unrecognized option '{arg}'")
            if longs[key] and not eq:
                i += 1
                if i >= len(argv):
                    raise BadUsage(f"{name}: option '{arg}' requires an argument")
                value = argv[i]
            found.setdefault(key, []).append(value)
        elif arg.startswith("-") and arg != "-":
            for j in range(1, len(arg)):
                letter = arg[j]
                k = spec.find(letter)
                if k < 0 or letter == ":":
                    raise BadUsage(f"{name}: invalid option -- '{letter}'")
                if spec[k + 1:k + 2] == ":":
                    value = arg[j + 1:]
                    if not value:
                        i += 1
                        if i >= len(argv):
                            raise BadUsage(f"{name}: option requires an argument -- '{letter}'")
                        value = argv[i]
                    found.setdefault(letter, []).append(value)
                    break
                found.setdefault(letter, []).append("")
        else:
            operands.append(arg)
        i += 1
    return found, operands


def usage(sh: Shell, io: Io, name: str, complaint: str = "") -> int:
    """Print BusyBox's usage text for C{name}; the status is 1, as BusyBox's."""
    if complaint:
        io.err(complaint + "\n")
    text = APPLETS[name].usage if name in APPLETS else f"{name} [ARGS]"
    io.err(f"{sh.sensor.busybox} multi-call binary.\n\nUsage: {text}\n")
    return 1


def options_or_usage(sh: Shell, io: Io, argv: list[str], spec: str,
                     longs: Mapping[str, bool] | None = None
                     ) -> tuple[dict[str, list[str]], list[str]] | None:
    """L{options}, or C{None} after printing the usage text, as BusyBox does."""
    try:
        return options(argv, spec, longs)
    except BadUsage as e:
        usage(sh, io, posixpath.basename(argv[0]), str(e))
        return None


def decimal(text: str) -> int | None:
    """C{text} as a plain decimal of at most 12 digits, else C{None}."""
    return int(text) if re.fullmatch(r"\d{1,12}", text) else None


def read_input(sh: Shell, io: Io, name: str, applet_name: str, quiet: bool = False
               ) -> bytes | None:
    """The contents of C{name} (C{-} is stdin), or C{None} after saying why not."""
    if name == "-":
        return io.stdin or b""
    try:
        return sh.fs.read(sh.path(name), sh.limits.max_output)
    except FsError as e:
        if not quiet:
            io.err(f"{applet_name}: {name}: {e}\n")
        return None
