"""How a command name becomes a program: C{dispatch} through the multi-call
C{busybox}, the programs that run others (C{sh}, C{busybox}, a file a bot
wrote), and the layout of applet links in the image.  It imports every
family of applets, so the registry is whole wherever a program can be
dispatched.
"""

from __future__ import annotations

import posixpath

from bbs.shell.applets import builtins, coreutils, files, system, text  # noqa: F401 (they register)
from bbs.shell.applets.network import curl
from bbs.shell.applets.program import Handler, Io, Shell, as_bytes
from bbs.shell.applets.registry import APPLETS, applet
from bbs.shell.fs import DIR, FILE, FsError


def dispatch(program: str, argv: list[str]) -> tuple[Handler, list[str], bool]:
    """What a built-in program runs for C{argv}: the function, its argv, and
    whether the applet exists (BusyBox reports "applet not found" if not)."""
    if program == "curl":
        return curl, argv, True
    while True:
        name = posixpath.basename(argv[0])
        if name != "busybox":
            found = APPLETS.get(name)
            return (found.run, argv, True) if found else (applet_not_found, argv, False)
        if len(argv) < 2 or argv[1].startswith("-"):
            return busybox, argv, True
        argv = argv[1:]


def layout() -> tuple[tuple[str, str], ...]:
    """(path, program) for every program file of the base image."""
    paths = {(f"{a.where}/{a.name}", "busybox") for a in APPLETS.values()}
    return tuple(sorted(paths | {("/usr/bin/curl", "curl")}))


def not_found(sh: Shell, io: Io, argv: list[str]) -> int:
    io.err(f"-sh: {argv[0]}: not found\n")
    return 127


def denied(sh: Shell, io: Io, argv: list[str]) -> int:
    io.err(f"-sh: {argv[0]}: Permission denied\n")
    return 126


def applet_not_found(sh: Shell, io: Io, argv: list[str]) -> int:
    io.err(f"{posixpath.basename(argv[0])}: applet not found\n")
    return 127


def run_file(sh: Shell, io: Io, argv: list[str]) -> int:
    """Executing a file a bot wrote: nothing real ever runs.  A binary for
    this processor dies like a truncated one; any other binary is fed to the
    shell, which chokes on line 1, as ash does after ENOEXEC."""
    node = sh.fs.lookup(sh.path(argv[0]) if "/" in argv[0] else sh.which(argv[0]) or "")
    if node is None:
        return not_found(sh, io, argv)
    if node.kind != FILE or not node.mode & 0o111:
        return denied(sh, io, argv)
    sh.fs.executed(sh.path(argv[0]) if "/" in argv[0] else sh.which(argv[0]) or "")
    data = node.data
    if data.startswith(b"\x7fELF"):
        if sh.arch.runs(data):
            io.err("Illegal instruction\n")
            return 132
        io.err(f'{argv[0]}: line 1: syntax error: unexpected "("\n')
        return 2
    if data.startswith(b"#!"):
        interpreter = data[2:].split(b"\n", 1)[0].split()
        path = interpreter[0].decode("utf-8", "surrogateescape") if interpreter else "/bin/sh"
        target = sh.fs.lookup(path)
        if target is None or target.kind == DIR:
            return not_found(sh, io, argv)
    return sh.run_script(data, io)


@applet("/bin", "sh [-c 'SCRIPT' | FILE [ARGS]]", "sh", "ash")
def sh_(sh: Shell, io: Io, argv: list[str]) -> int:
    """C{sh} alone starts no new shell: the bot keeps talking to this one."""
    rest = argv[1:]
    while rest and rest[0].startswith("-") and rest[0] not in ("-c", "-"):
        rest = rest[1:]
    if rest[:1] == ["-c"]:
        if len(rest) < 2:
            io.err("sh: -c requires an argument\n")
            return 2
        return sh.run_script(as_bytes(rest[1]), io)
    if rest and rest[0] != "-":
        try:
            data = sh.fs.read(sh.path(rest[0]), sh.limits.max_bytes)
        except FsError:
            io.err(f"sh: can't open '{rest[0]}': No such file or directory\n")
            return 2
        sh.fs.executed(sh.path(rest[0]))
        return sh.run_script(data, io, rest[1:])
    data = io.stdin
    if data:
        return sh.run_script(data, io)
    return 0


@applet("/bin", "busybox [function [arguments]...]")
def busybox(sh: Shell, io: Io, argv: list[str]) -> int:
    flag = argv[1] if len(argv) > 1 else ""
    if flag in ("--list", "--list-full"):
        for a in sorted(APPLETS.values(), key=lambda a: a.name):
            if a.name != "busybox":
                io.out(f"{a.where[1:]}/{a.name}\n" if flag == "--list-full" else a.name + "\n")
        return 0
    names = ", ".join(sorted(a for a in APPLETS if a != "busybox"))
    wrapped = "\n".join("\t" + line for line in _wrap(names + ",", 71))
    io.out(
        f"{sh.sensor.busybox} multi-call binary.\n"
        "BusyBox is copyrighted by many authors between 1998-2015.\n"
        "Licensed under GPLv2. See source distribution for detailed\ncopyright notices.\n\n"
        "Usage: busybox [function [arguments]...]\n   or: busybox --list[-full]\n"
        "   or: busybox --install [-s] [DIR]\n   or: function [arguments]...\n\n"
        "\tBusyBox is a multi-call binary that combines many common Unix\n"
        "\tutilities into a single executable.  The shell in this build\n"
        "\tis configured to run built-in utilities without $PATH search.\n"
        "\tYou don't need to install a link to busybox for each utility.\n"
        "\tTo run external program, use full path (/sbin/ip instead of ip).\n\n"
        f"Currently defined functions:\n{wrapped}\n"
    )
    return 0 if not flag or flag == "--help" else 1


def _wrap(words: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in words.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines
