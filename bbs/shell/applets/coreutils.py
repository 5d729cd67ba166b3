"""Small applets droppers lean on: C{ln}, C{basename}, C{dirname}, C{env},
C{seq}, C{tee}, C{readlink}, C{md5sum}, C{sha256sum}, C{sync}, C{killall},
C{pidof}.  Worded as BusyBox 1.35.0 words them; files go through the
shell's filesystem like every other write.
"""

from __future__ import annotations

import hashlib
import posixpath
import re

from bbs.shell.applets.program import Handler, Io, Shell, ShellExit
from bbs.shell.applets.registry import applet, options_or_usage, usage
from bbs.shell.fs import LINK, FsError


@applet("/bin", "ln [-sfnbtv] [-S SUF] TARGET... LINK|DIR")
def ln(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "sfnv")
    if parsed is None:
        return 1
    opts, operands = parsed
    if len(operands) < 2:
        return usage(sh, io, "ln")
    *targets, place = operands
    status = 0
    directory = sh.fs.lookup(sh.path(place))
    for target in targets:
        name = place
        if directory is not None and directory.kind == "dir":
            name = posixpath.join(place, posixpath.basename(target))
        path = sh.path(name)
        try:
            if "s" not in opts:
                node = sh.fs.stat(sh.path(target))
                if node.kind == "dir":
                    raise FsError("Is a directory")
            if sh.fs.lookup(path, follow=False) is not None:
                if "f" not in opts:
                    raise FsError("File exists")
                sh.fs.remove(path)
            if "s" in opts:
                sh.fs.symlink(target, path)
            else:
                sh.fs.copy(sh.path(target), path)
        except FsError as e:
            io.err(f"ln: {target if str(e) == 'No such file or directory' else name}: {e}\n")
            status = 1
    return status


@applet("/usr/bin", "basename FILE [SUFFIX]")
def basename(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) not in (2, 3):
        return usage(sh, io, "basename")
    name = posixpath.basename(argv[1].rstrip("/")) or "/"
    if len(argv) == 3 and name.endswith(argv[2]) and name != argv[2]:
        name = name[:-len(argv[2])]
    io.out(name + "\n")
    return 0


@applet("/usr/bin", "dirname FILENAME")
def dirname(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) != 2:
        return usage(sh, io, "dirname")
    path = argv[1].rstrip("/") or "/"
    io.out((posixpath.dirname(path) or ".") + "\n")
    return 0


@applet("/usr/bin", "env [-i] [-u NAME] [-] [NAME=VALUE]... [PROG ARGS]")
def env(sh: Shell, io: Io, argv: list[str]) -> int:
    names = {**sh.env, "SHLVL": "1", "OLDPWD": sh.env.get("OLDPWD", "/")}
    args = argv[1:]
    while args and "=" in args[0]:
        name, _, value = args.pop(0).partition("=")
        names[name] = value
    if args:
        return sh.run_string(" ".join("'" + a.replace("'", "'\\''") + "'" for a in args), io)
    io.out("".join(f"{k}={v}\n" for k, v in names.items() if k not in ("PS1", "PS2", "IFS")))
    return 0


@applet("/usr/bin", "seq [-w] [-s SEP] [FIRST [INC]] LAST\n\n"
        "Print numbers from FIRST to LAST, in steps of INC.\nFIRST, INC default to 1.\n\n"
        "\t-w\tPad to last with leading zeros\n\t-s SEP\tString separator")
def seq(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "ws:")
    if parsed is None:
        return 1
    opts, numbers = parsed
    if not 1 <= len(numbers) <= 3:
        return usage(sh, io, "seq")
    values = []
    for n in numbers:
        if not re.fullmatch(r"-?\d{1,12}", n):
            io.err(f"seq: invalid number '{n}'\n")
            return 1
        values.append(int(n))
    first, step, last = (1, 1, values[0]) if len(values) == 1 else \
        (values[0], 1, values[1]) if len(values) == 2 else tuple(values)
    separator = (opts.get("s") or ["\n"])[-1]
    shown = []
    value = first
    while step and (value <= last if step > 0 else value >= last) and len(shown) < 100_000:
        shown.append(str(value).zfill(len(str(last))) if "w" in opts else str(value))
        value += step
    if shown:
        io.out(separator.join(shown) + "\n")
    return 0


@applet("/usr/bin", "tee [-ai] [FILE]...")
def tee(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "ai")
    if parsed is None:
        return 1
    opts, files = parsed
    data = io.stdin or b""
    status = 0
    for name in files:
        try:
            sh.fs.write(sh.path(name), data, append="a" in opts)
        except FsError as e:
            io.err(f"tee: can't open '{name}': {e}\n")
            status = 1
    io.out(data)
    return status


@applet("/usr/bin", "readlink [-fnv] FILE")
def readlink(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "fnvse")
    if parsed is None:
        return 1
    opts, files = parsed
    if len(files) != 1:
        return usage(sh, io, "readlink")
    path = sh.path(files[0])
    try:
        if "f" in opts or "e" in opts:
            text = sh.fs.resolve(path)
        else:
            node = sh.fs.stat(path, follow=False)
            if node.kind != LINK:
                return 1
            text = node.target
    except FsError:
        return 1
    io.out(text + ("" if "n" in opts else "\n"))
    return 0


def _digest(algorithm: str) -> Handler:
    def run(sh: Shell, io: Io, argv: list[str]) -> int:
        name = f"{algorithm}sum"
        status = 0
        for file in argv[1:] or ["-"]:
            if file == "-":
                data = io.stdin or b""
            else:
                try:
                    data = sh.fs.read(sh.path(file), sh.limits.max_bytes + (1 << 22))
                except FsError as e:
                    io.err(f"{name}: can't open '{file}': {e}\n")
                    status = 1
                    continue
            io.out(f"{hashlib.new(algorithm, data).hexdigest()}  {file}\n")
        return status
    return run


applet("/usr/bin", "md5sum [-c[sw]] [FILE]...", "md5sum")(_digest("md5"))
applet("/usr/bin", "sha256sum [-c[sw]] [FILE]...", "sha256sum")(_digest("sha256"))


@applet("/bin", "sync")
def sync(sh: Shell, io: Io, argv: list[str]) -> int:
    return 0


def _matching(sh: Shell, name: str) -> list[int]:
    """The processes whose program is called C{name}, as killall and pidof find them."""
    found = []
    for pid, (_, _, command) in {**sh.processes, **sh.running}.items():
        if command.startswith("["):
            continue
        program = posixpath.basename(command.split()[0]).lstrip("-")
        if program == name:
            found.append(pid)
    return found


@applet("/usr/bin", "killall [-l] [-q] [-SIG] PROCESS_NAME...")
def killall(sh: Shell, io: Io, argv: list[str]) -> int:
    args = [a for a in argv[1:] if not (a.startswith("-") and len(a) > 1)]
    quiet = "-q" in argv
    if not args:
        return usage(sh, io, "killall")
    status = 0
    for name in args:
        pids = [p for p in _matching(sh, name) if p not in sh.running]
        if not pids:
            if not quiet:
                io.err(f"killall: {name}: no process killed\n")
            status = 1
        for pid in pids:
            if pid == sh.pid:
                raise ShellExit(137)
            if pid != 1:
                del sh.processes[pid]
    return status


@applet("/bin", "pidof [OPTIONS] [NAME]...")
def pidof(sh: Shell, io: Io, argv: list[str]) -> int:
    names = [a for a in argv[1:] if not a.startswith("-")]
    pids = sorted({p for name in names for p in _matching(sh, name)} - {sh.current_pid},
                  reverse=True)
    if pids:
        io.out(" ".join(map(str, pids)) + "\n")
    return 0 if pids else 1

