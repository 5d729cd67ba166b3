"""The programs of the fake device: ash built-ins and BusyBox applets.

Each is a plain function C{(shell, io, argv) -> exit status}.  Output is
written the way the real applet writes it, down to the error wording, since
loaders decide what to do next by matching it.  Network applets only record
what they were asked to fetch and fail the way a firewalled box does; no
applet touches anything outside the shell's own virtual filesystem.
"""

from __future__ import annotations

import ipaddress
import posixpath
import re
import stat
import time
import urllib.parse
from collections.abc import Callable, Mapping, Sequence
from typing import TYPE_CHECKING, Protocol

import attrs

from bbs.shell.regex import Regex, RegexError
from bbs.shell.fs import DEV, DEVICES, DIR, FILE, LINK, FsError

if TYPE_CHECKING:
    from bbs.shell.fs import Arch, FileSystem
    from bbs.shell.limits import ShellLimits
    from bbs.shell.sensor import Sensor


class Sink:
    """Where a command's output goes; bounded, so nothing a bot runs can grow
    a buffer without limit."""

    def __init__(self, limit: int, path: str | None = None) -> None:
        self.data = bytearray()
        self.limit = limit
        self.path = path

    def write(self, data: bytes) -> None:
        room = self.limit - len(self.data)
        if room > 0:
            self.data += data[:room]


_NOT_A_BYTE = re.compile("[\ud800-\udc7f\udd00-\udfff]")


def as_bytes(text: str | bytes) -> bytes:
    """Text as the bytes a real shell would hold: the lone surrogates that
    stand for raw bytes become those bytes, any other one becomes U+FFFD."""
    if isinstance(text, bytes):
        return text
    try:
        return text.encode("utf-8", "surrogateescape")
    except UnicodeEncodeError:
        return _NOT_A_BYTE.sub("\ufffd", text).encode("utf-8", "surrogateescape")


class Reader:
    """A command's standard input: read once, shared by the commands of a
    redirected loop, so C{while read i; do ...; done < f} walks the file."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.pos = 0

    def rest(self) -> bytes:
        """Everything not yet read, consumed."""
        data, self.pos = self.data[self.pos:], len(self.data)
        return data

    def line(self) -> bytes | None:
        """The next line without its newline, or C{None} at the end."""
        if self.pos >= len(self.data):
            return None
        end = self.data.find(b"\n", self.pos)
        if end < 0:
            line, self.pos = self.data[self.pos:], len(self.data)
        else:
            line, self.pos = self.data[self.pos:end], end + 1
        return line


@attrs.frozen
class Io:
    """A command's standard streams.  C{stdout_path} is the file stdout was
    redirected to, if any; C{tty} says stdout is the bot's terminal."""

    source: Reader | None
    stdout: Sink
    stderr: Sink
    stdout_path: str | None = None
    tty: bool = False

    @property
    def stdin(self) -> bytes | None:
        """What is left of standard input (C{None} for the terminal), consumed."""
        return self.source.rest() if self.source is not None else None

    def out(self, data: str | bytes) -> None:
        self.stdout.write(as_bytes(data))

    def err(self, data: str | bytes) -> None:
        self.stderr.write(as_bytes(data))


class ShellExit(Exception):
    """The shell (or the script running) ends with this status."""

    def __init__(self, status: int = 0) -> None:
        super().__init__(status)
        self.status = status


class LoopControl(Exception):
    """C{break N} or C{continue N} unwinding to its loop."""

    def __init__(self, kind: str, levels: int) -> None:
        super().__init__(kind, levels)
        self.kind = kind
        self.levels = levels


class Shell(Protocol):
    """What the applets use of the shell running them (L{bbs.shell.shell.BusyBoxShell}):
    named here, so that the applets do not import the shell that imports them."""

    arch: Arch
    hostname: str
    sensor: Sensor
    limits: ShellLimits
    fs: FileSystem
    cwd: str
    env: dict[str, str]
    args: list[str]
    aliases: dict[str, str]
    traps: dict[str, str]
    readonly: set[str]
    history: list[str]
    umask: int
    ulimits: dict[str, str]
    status: int
    processes: dict[int, tuple[int, str, str]]
    running: dict[int, tuple[int, str, str]]
    pid: int
    current_pid: int
    _last_pid: int
    boot: float

    def now(self) -> float: ...

    def pause(self, seconds: float) -> float: ...

    def path(self, name: str) -> str: ...

    def which(self, name: str) -> str | None: ...

    def resolve(self, name: str) -> tuple[str, str | None]: ...

    def download(self, url: str, outfile: str, protocol: str) -> None: ...

    def run_script(self, data: bytes, io: Io, args: list[str] | None = None) -> int: ...

    def run_string(self, text: str, io: Io) -> int: ...

    def variable(self, name: str) -> str | None: ...

    def set_variable(self, name: str, value: str) -> bool: ...


Handler = Callable[[Shell, Io, list[str]], int]


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


def _parsed(sh: Shell, io: Io, argv: list[str], spec: str, longs: Mapping[str, bool] | None = None
            ) -> tuple[dict[str, list[str]], list[str]] | None:
    try:
        return options(argv, spec, longs)
    except BadUsage as e:
        usage(sh, io, posixpath.basename(argv[0]), str(e))
        return None


def _number(text: str) -> int | None:
    return int(text) if re.fullmatch(r"\d{1,12}", text) else None


# -- programs and dispatch -----------------------------------------------------

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


# -- the shell itself ------------------------------------------------------------

@builtin("cd", "chdir")
def cd(sh: Shell, io: Io, argv: list[str]) -> int:
    target = argv[1] if len(argv) > 1 else sh.env.get("HOME", "/")
    if target == "-":
        target = sh.env.get("OLDPWD", sh.cwd)
        io.out(target + "\n")
    path = sh.path(target)
    node = sh.fs.lookup(path)
    if node is None or node.kind != DIR:
        io.err(f"-sh: cd: can't cd to {target}: "
               f"{'Not a directory' if node is not None else 'No such file or directory'}\n")
        return 2
    sh.env["OLDPWD"] = sh.cwd
    sh.cwd = sh.env["PWD"] = path
    return 0


@builtin("exit", "logout")
def exit_(sh: Shell, io: Io, argv: list[str]) -> int:
    status = _number(argv[1]) if len(argv) > 1 else sh.status
    raise ShellExit((status if status is not None else 2) & 0xFF)


@builtin("export")
def export(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) == 1:
        for name in sorted(sh.env):
            io.out(f"export {name}='{sh.env[name]}'\n")
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if re.fullmatch(r"[A-Za-z_][A-Za-z0-9_]*", name):
            if eq:
                sh.env[name] = value
        else:
            io.err(f"-sh: export: bad variable name '{name}'\n")
            return 1
    return 0


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


def _wrap(text: str, width: int) -> list[str]:
    lines, line = [], ""
    for word in text.split(" "):
        if line and len(line) + 1 + len(word) > width:
            lines.append(line)
            line = word
        else:
            line = f"{line} {word}" if line else word
    return lines + [line] if line else lines


# -- text and files -----------------------------------------------------------------

_ESCAPES = {ord("a"): 7, ord("b"): 8, ord("e"): 27, ord("f"): 12, ord("n"): 10,
            ord("r"): 13, ord("t"): 9, ord("v"): 11, ord("\\"): 92}
_HEX = b"0123456789abcdefABCDEF"
_OCTAL = b"01234567"


def unescape(data: bytes) -> tuple[bytes, bool]:
    """C{echo -e}: the bytes C{data} stands for, and whether C{\\c} cut it short."""
    out = bytearray()
    i, n = 0, len(data)
    while i < n:
        c = data[i]
        if c != 0x5C or i + 1 >= n:
            out.append(c)
            i += 1
            continue
        e = data[i + 1]
        if e == ord("c"):
            return bytes(out), True
        if e == ord("x"):
            j = i + 2
            while j < n and j < i + 4 and data[j] in _HEX:
                j += 1
            if j > i + 2:
                out.append(int(data[i + 2:j], 16))
            else:
                out += b"\\x"
            i = j
        elif e in _OCTAL:
            start = i + 2 if e == ord("0") else i + 1
            j = start
            while j < n and j < start + 3 and data[j] in _OCTAL:
                j += 1
            out.append(int(data[start:j] or b"0", 8) & 0xFF)
            i = j
        elif e in _ESCAPES:
            out.append(_ESCAPES[e])
            i += 2
        else:
            out += data[i:i + 2]
            i += 2
    return bytes(out), False


@builtin("echo")
@applet("/bin", "echo [-neE] [ARG]...")
def echo(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    newline, escapes = True, False
    while args and re.fullmatch(r"-[neE]+", args[0]):
        for flag in args[0][1:]:
            if flag == "n":
                newline = False
            else:
                escapes = flag == "e"
        args = args[1:]
    out = bytearray()
    for k, arg in enumerate(args):
        if k:
            out += b" "
        if escapes:
            text, stop = unescape(as_bytes(arg))
            out += text
            if stop:
                io.out(bytes(out))
                return 0
        else:
            out += as_bytes(arg)
    io.out(bytes(out) + (b"\n" if newline else b""))
    return 0


def _read(sh: Shell, io: Io, name: str, applet_name: str, quiet: bool = False
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


@applet("/bin", "cat [-nbvteA] [FILE]...")
def cat(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "u")  # -u is ignored by every cat
    if parsed is None:
        return 1
    status = 0
    for name in parsed[1] or ["-"]:
        if name == "-":
            io.out(io.stdin or b"")
            continue
        try:
            io.out(sh.fs.read(sh.path(name), sh.limits.max_output))
        except FsError as e:
            io.err("cat: read error: Is a directory\n" if str(e) == "Is a directory"
                   else f"cat: can't open '{name}': {e}\n")
            status = 1
    return status


def _count(io: Io, value: str, name: str) -> int | None:
    n = _number(value.lstrip("+-"))
    if n is None:
        io.err(f"{name}: invalid number '{value}'\n")
    return n


def _head_tail(sh: Shell, io: Io, argv: list[str], head: bool) -> int:
    name = "head" if head else "tail"
    argv = [a if not re.fullmatch(r"-\d+", a) else "-n" + a[1:] for a in argv]
    parsed = _parsed(sh, io, argv, "n:c:qv")
    if parsed is None:
        return 1
    opts, files = parsed
    count = _count(io, (opts.get("c") or opts.get("n") or ["10"])[-1], name)
    if count is None:
        return 1
    status = 0
    files = files or ["-"]
    for k, file in enumerate(files):
        data = _read(sh, io, file, name)
        if data is None:
            status = 1
            continue
        if (len(files) > 1 or "v" in opts) and "q" not in opts:
            io.out(f"{chr(10) if k else ''}==> {'standard input' if file == '-' else file} <==\n")
        if "c" in opts:
            io.out(data[:count] if head else data[len(data) - count:] if count else b"")
        else:
            lines = data.splitlines(keepends=True)
            io.out(b"".join(lines[:count] if head else lines[len(lines) - count:] if count else []))
    return status


@applet("/usr/bin", "head [OPTIONS] [FILE]...")
def head(sh: Shell, io: Io, argv: list[str]) -> int:
    return _head_tail(sh, io, argv, True)


@applet("/usr/bin", "tail [OPTIONS] [FILE]...")
def tail(sh: Shell, io: Io, argv: list[str]) -> int:
    return _head_tail(sh, io, argv, False)


@applet("/usr/bin", "wc [-clw] [FILE]...")
def wc(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "clwm")
    if parsed is None:
        return 1
    opts, files = parsed
    wanted = [f for f in "lwc" if f in opts or (f == "c" and "m" in opts)] or ["l", "w", "c"]
    status = 0
    for file in files or ["-"]:
        data = _read(sh, io, file, "wc")
        if data is None:
            status = 1
            continue
        counts = {"l": data.count(b"\n"), "w": len(data.split()), "c": len(data)}
        if len(wanted) == 1:
            io.out(f"{counts[wanted[0]]}{' ' + file if files else ''}\n")
        else:
            cells = " ".join(f"{counts[f]:7d}" for f in wanted)
            io.out(f"{cells}{' ' + file if files else ''}\n")
    return status


@applet("/bin", "grep [-HhnlLoqvsrRiwFE] PATTERN/-e PATTERN [FILE]...")
def grep(sh: Shell, io: Io, argv: list[str]) -> int:
    """Basic and extended regular expressions without groups, matched in
    time linear in the input (L{bbs.shell.regex}), and fixed strings (C{-F})."""
    parsed = _parsed(sh, io, argv, "ivcqnlhHsEFe:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if "e" in opts:
        pattern = opts["e"][-1]
    elif operands:
        pattern, operands = operands[0], operands[1:]
    else:
        return usage(sh, io, "grep")
    fold = "i" in opts
    needle = as_bytes(pattern).lower() if fold else as_bytes(pattern)
    try:
        regex = None if "F" in opts else Regex.compile(needle, "E" in opts, fold)
    except RegexError as e:
        io.err(f"grep: bad regex '{pattern}': {e}\n")
        return 2

    def matches(line: bytes) -> bool:
        if regex is None:
            found = needle in (line.lower() if fold else line)
        else:
            found = regex.search(line, fold)
        return found != ("v" in opts)

    any_match, status = False, 0
    files = operands or ["-"]
    for file in files:
        data = _read(sh, io, file, "grep", quiet="s" in opts)
        if data is None:
            status = 2
            continue
        hits = [(n, line) for n, line in enumerate(data.split(b"\n")[:-1] if data.endswith(b"\n")
                                                    else data.split(b"\n"), 1) if matches(line)]
        any_match = any_match or bool(hits)
        if "q" in opts:
            continue
        prefix = f"{file}:".encode() if len(files) > 1 and "h" not in opts or "H" in opts else b""
        if "c" in opts:
            io.out(prefix + f"{len(hits)}\n".encode())
        elif "l" in opts:
            if hits:
                io.out(file + "\n")
        else:
            for n, line in hits:
                io.out(prefix + (f"{n}:".encode() if "n" in opts else b"") + line + b"\n")
    return status or (0 if any_match else 1)


def _mode_string(node_kind: str, mode: int) -> str:
    kind = {DIR: "d", LINK: "l", DEV: "c"}.get(node_kind, "-")
    return kind + stat.filemode(mode)[1:]


def _when(sh: Shell, mtime: float) -> str:
    t = time.gmtime(mtime)
    recent = abs(sh.now() - mtime) < 182 * 86400
    return time.strftime("%b %e %H:%M" if recent else "%b %e  %Y", t)


def _human(size: int) -> str:
    """A size as C{ls -h} shows it: 512, 1.9K, 3.0M."""
    value = float(size)
    for unit in ("", "K", "M"):
        if value < 1024:
            return f"{value:.1f}{unit}" if unit else str(size)
        value /= 1024
    return f"{value:.1f}G"


def _long_line(sh: Shell, path: str, shown: str, human: bool) -> str:
    node = sh.fs.stat(path, follow=False)
    if node.kind == DEV:
        major, minor = DEVICES[node.device]
        size = f"{major:>4}, {minor:>3}"
    elif node.kind == LINK:
        size = f"{0 if sh.fs.mount(path).fstype == 'proc' else len(node.target):>9}"
    elif node.kind == DIR:
        size = f"{0:>9}"
    else:
        length = 0 if sh.fs.mount(path).fstype == "proc" else len(node.data)
        size = f"{_human(length) if human else length:>9}"
    links = 2 if node.kind == DIR else 1
    arrow = f" -> {node.target}" if node.kind == LINK else ""
    return (f"{_mode_string(node.kind, node.mode)} {links:>4} root     root     {size} "
            f"{_when(sh, node.mtime)} {shown}{arrow}\n")


def _blocks(sh: Shell, path: str, names: list[str]) -> int:
    """The 1K blocks C{ls -l} totals: files take whole 4K pages on tmpfs and flash."""
    total = 0
    for name in names:
        node = sh.fs.lookup(posixpath.join(path, name), follow=False)
        if node is not None and node.kind == FILE and sh.fs.mount(path).fstype != "proc":
            total += -(-len(node.data) // 4096) * 4
    return total


def _columns(names: list[str], width: int = 80) -> str:
    if not names:
        return ""
    col = max(len(n) for n in names) + 2
    ncols = max(1, width // col)
    nrows = -(-len(names) // ncols)
    rows = []
    for r in range(nrows):
        cells = names[r::nrows]
        rows.append("".join(c.ljust(col) for c in cells[:-1]) + cells[-1])
    return "\n".join(rows) + "\n"


@applet("/bin", "ls [-1AaCxdLHRFplinsehrSXvctu] [-w WIDTH] [FILE]...")
def ls(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "1aAldhC")
    if parsed is None:
        return 1
    opts, targets = parsed
    long = "l" in opts
    status = 0
    files: list[tuple[str, str]] = []
    dirs: list[tuple[str, str]] = []
    for target in targets or ["."]:
        path = sh.path(target)
        itself = sh.fs.lookup(path, follow=False)
        followed = sh.fs.lookup(path)
        if itself is None:
            io.err(f"ls: {target}: No such file or directory\n")
            status = 1
        elif "d" not in opts and followed is not None and followed.kind == DIR \
                and (itself.kind != LINK or not long or target.endswith("/")):
            dirs.append((target, path))
        else:
            files.append((target, path))

    def show(entries: list[tuple[str, str]]) -> None:
        if long:
            io.out("".join(_long_line(sh, path, shown, "h" in opts) for shown, path in entries))
        elif (io.tty or "C" in opts) and "1" not in opts:
            io.out(_columns([shown for shown, _ in entries]))
        else:
            io.out("".join(shown + "\n" for shown, _ in entries))

    show(files)
    for k, (target, path) in enumerate(dirs):
        if len(dirs) + len(files) > 1:
            io.out(f"{chr(10) if k or files else ''}{target}:\n")
        try:
            names = sh.fs.listdir(path)
        except FsError as e:
            io.err(f"ls: {target}: {e}\n")
            status = 1
            continue
        if "a" in opts:
            names = [".", ".."] + names
        elif "A" not in opts:
            names = [n for n in names if not n.startswith(".")]
        if long:
            io.out(f"total {_blocks(sh, path, names)}\n")
        show([(n, path if n == "." else posixpath.dirname(path) if n == ".." else
               posixpath.join(path, n)) for n in names])
    return status


@builtin("pwd")
@applet("/bin", "pwd")
def pwd(sh: Shell, io: Io, argv: list[str]) -> int:
    io.out(sh.cwd + "\n")
    return 0


@applet("/bin", "mkdir [OPTIONS] DIRECTORY...")
def mkdir(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "pm:")
    if parsed is None:
        return 1
    opts, dirs = parsed
    if not dirs:
        return usage(sh, io, "mkdir")
    if "m" in opts and new_mode(opts["m"][-1], 0o755, True) is None:
        io.err(f"mkdir: invalid mode '{opts['m'][-1]}'\n")
        return 1
    status = 0
    for d in dirs:
        path = sh.path(d)
        steps = [path]
        if "p" in opts:
            steps = []
            while path not in ("/", "") and path not in steps:
                steps.insert(0, path)
                path = posixpath.dirname(path)
        try:
            for step in steps:
                node = sh.fs.lookup(step)
                if "p" in opts and node is not None and node.kind == DIR:
                    continue
                sh.fs.mkdir(step)
            if "m" in opts:
                sh.fs.chmod(path, new_mode(opts["m"][-1], 0o755, True) or 0)
        except FsError as e:
            io.err(f"mkdir: can't create directory '{d}': {e}\n")
            status = 1
    return status


def _remove(sh: Shell, io: Io, shown: str, path: str, recursive: bool) -> bool:
    """Remove C{path}, children first, saying what could not be removed."""
    node = sh.fs.lookup(path, follow=False)
    if node is not None and node.kind == DIR and not recursive:
        io.err(f"rm: '{shown}' is a directory\n")
        return False
    top = sh.fs.resolve(path, follow=False)
    ok = True
    for real in reversed(sh.fs.walk(path)):
        try:
            sh.fs.remove(real)
        except FsError as e:
            name = shown if real == top else posixpath.join(shown, real[len(top) + 1:])
            io.err(f"rm: can't remove '{name}': {e}\n")
            ok = False
    return ok


@applet("/bin", "rm [-rf] FILE...")
def rm(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "rRf")
    if parsed is None:
        return 1
    opts, targets = parsed
    if not targets and "f" not in opts:
        return usage(sh, io, "rm")
    status = 0
    for target in targets:
        path = sh.path(target)
        if sh.fs.lookup(path, follow=False) is None:
            if "f" not in opts:
                io.err(f"rm: can't remove '{target}': No such file or directory\n")
                status = 1
            continue
        if not _remove(sh, io, target, path, "r" in opts or "R" in opts):
            status = 1
    return status


@applet("/bin", "rmdir [OPTIONS] DIRECTORY...")
def rmdir(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "p")
    if parsed is None:
        return 1
    if not parsed[1]:
        return usage(sh, io, "rmdir")
    status = 0
    for d in parsed[1]:
        path = sh.path(d)
        node = sh.fs.lookup(path, follow=False)
        try:
            if node is not None and node.kind != DIR:
                raise FsError("Not a directory")
            sh.fs.remove(path)
        except FsError as e:
            io.err(f"rmdir: '{d}': {e}\n")
            status = 1
    return status


def _destination(sh: Shell, sources: list[str], target: str) -> Callable[[str], str] | None:
    """Where each source goes: into C{target} if it is a directory."""
    node = sh.fs.lookup(sh.path(target))
    if node is not None and node.kind == DIR:
        return lambda src: posixpath.join(sh.path(target), posixpath.basename(src.rstrip("/")))
    if len(sources) > 1:
        return None
    return lambda src: sh.path(target)


def _copy_tree(sh: Shell, src: str, dst: str) -> None:
    top = sh.fs.resolve(src)
    for real in sh.fs.walk(top):
        target = dst + real[len(top):]
        if sh.fs.stat(real, follow=False).kind != DIR:
            sh.fs.copy(real, target)
        elif sh.fs.lookup(target) is None:
            sh.fs.mkdir(target)


@applet("/bin", "cp [OPTIONS] SOURCE... DEST")
def cp(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "arRfp")
    if parsed is None:
        return 1
    opts, operands = parsed
    if len(operands) < 2:
        return usage(sh, io, "cp")
    *sources, target = operands
    where = _destination(sh, sources, target)
    if where is None:
        io.err(f"cp: '{target}' is not a directory\n")
        return 1
    status = 0
    for src in sources:
        node = sh.fs.lookup(sh.path(src))
        if node is None:
            io.err(f"cp: can't stat '{src}': No such file or directory\n")
            status = 1
        elif node.kind == DIR and not {"r", "R", "a"} & opts.keys():
            io.err(f"cp: omitting directory '{src}'\n")
            status = 1
        else:
            try:
                _copy_tree(sh, sh.path(src), where(src))
            except FsError as e:
                io.err(f"cp: can't create '{target}': {e}\n")
                status = 1
    return status


@applet("/bin", "mv [-f] SOURCE... DEST")
def mv(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "f")
    if parsed is None:
        return 1
    operands = parsed[1]
    if len(operands) < 2:
        return usage(sh, io, "mv")
    *sources, target = operands
    where = _destination(sh, sources, target)
    if where is None:
        io.err(f"mv: '{target}' is not a directory\n")
        return 1
    status = 0
    for src in sources:
        try:
            sh.fs.rename(sh.path(src), where(src))
        except FsError as e:
            io.err(f"mv: can't rename '{src}': {e}\n")
            status = 1
    return status


_SYMBOLIC = re.compile(r"([ugoa]*)([-+=])([rwxXst]*)")


def new_mode(spec: str, mode: int, is_dir: bool) -> int | None:
    """C{chmod}'s MODE applied to C{mode}, or C{None} if MODE is invalid."""
    if re.fullmatch(r"[0-7]{1,4}", spec):
        return int(spec, 8)
    for clause in spec.split(","):
        m = re.fullmatch(r"([ugoa]*)((?:[-+=][rwxXst]*)+)", clause)
        if not m:
            return None
        who = m.group(1) or "a"
        mask = sum({"u": 0o4700, "g": 0o2070, "o": 0o1007, "a": 0o7777}[w] for w in set(who))
        for op_m in _SYMBOLIC.finditer(clause[len(m.group(1)):]):
            op, perms = op_m.group(2), op_m.group(3)
            bits = 0
            for p in perms:
                bits |= {"r": 0o444, "w": 0o222, "x": 0o111, "s": 0o6000, "t": 0o1000,
                         "X": 0o111 if is_dir or mode & 0o111 else 0}[p]
            bits &= mask
            if op == "+":
                mode |= bits
            elif op == "-":
                mode &= ~bits
            else:
                mode = (mode & ~mask) | bits
    return mode & 0o7777


@applet("/bin", "chmod [-Rcvf] MODE[,MODE]... FILE...")
def chmod(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    recursive = False
    while args and re.fullmatch(r"-[Rcvf]+", args[0]):
        recursive = recursive or "R" in args[0]
        args = args[1:]
    if len(args) < 2:
        return usage(sh, io, "chmod")
    spec, files = args[0], args[1:]
    if new_mode(spec, 0, False) is None:
        io.err(f"chmod: invalid mode '{spec}'\n")
        return 1
    status = 0
    for file in files:
        paths = [sh.path(file)]
        while paths:
            path = paths.pop()
            node = sh.fs.lookup(path)
            try:
                if node is None:
                    raise FsError("No such file or directory")
                sh.fs.chmod(path, new_mode(spec, node.mode, node.kind == DIR) or 0)
                if recursive and node.kind == DIR:
                    paths.extend(posixpath.join(path, n) for n in sh.fs.listdir(path))
            except FsError as e:
                io.err(f"chmod: {file if path == sh.path(file) else path}: {e}\n")
                status = 1
    return status


@applet("/bin", "touch [-c] FILE...")
def touch(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "c")
    if parsed is None:
        return 1
    opts, files = parsed
    if not files:
        return usage(sh, io, "touch")
    status = 0
    for file in files:
        path = sh.path(file)
        if "c" in opts and sh.fs.lookup(path) is None:
            continue
        try:
            sh.fs.touch(path)
        except FsError as e:
            io.err(f"touch: {file}: {e}\n")
            status = 1
    return status


@applet("/bin", "dd [if=FILE] [of=FILE] [bs=N] [count=N] [skip=N] [seek=N] [conv=notrunc]")
def dd(sh: Shell, io: Io, argv: list[str]) -> int:
    args: dict[str, str] = {}
    for arg in argv[1:]:
        key, eq, value = arg.partition("=")
        if not eq or key not in ("if", "of", "bs", "ibs", "obs", "count", "skip", "seek",
                                 "conv", "iflag", "oflag", "status"):
            io.err(f"dd: invalid argument '{arg}'\n")
            return 1
        args[key] = value
    numbers: dict[str, int] = {}
    for key in ("bs", "ibs", "count", "skip", "seek"):
        if key in args:
            value = _size(args[key])
            if value is None or (key.endswith("bs") and value == 0):
                io.err(f"dd: invalid number '{args[key]}'\n")
                return 1
            numbers[key] = value
    block = numbers.get("bs", numbers.get("ibs", 512))
    cap = sh.limits.max_output
    want = min(cap, block * numbers["count"]) if "count" in numbers else cap
    skip = numbers.get("skip", 0) * block
    if "if" in args:
        try:
            data = sh.fs.read(sh.path(args["if"]), min(cap, skip + want))[skip:]
        except FsError as e:
            io.err(f"dd: can't open '{args['if']}': {e}\n")
            return 1
    else:
        data = (io.stdin or b"")[skip:skip + want]
    data = data[:want]
    full, partial = divmod(len(data), block)
    records = f"{full}+{1 if partial else 0}"
    if "of" in args:
        path = sh.path(args["of"])
        try:
            if "notrunc" in args.get("conv", "") or "seek" in numbers:
                sh.fs.write(path, data, append=True)
            else:
                sh.fs.write(path, data)
        except FsError as e:
            io.err(f"dd: can't open '{args['of']}': {e}\n")
            return 1
    else:
        io.out(data)
    if args.get("status") not in ("none", "noxfer"):
        io.err(f"{records} records in\n{records} records out\n")
    return 0


def _size(text: str) -> int | None:
    m = re.fullmatch(r"(\d{1,12})(c|w|b|kB|k|K|MB|M|GB|G)?", text)
    if not m:
        return None
    scale = {"c": 1, "w": 2, "b": 512, "kB": 1000, "k": 1024, "K": 1024, "MB": 10**6,
             "M": 1 << 20, "GB": 10**9, "G": 1 << 30}.get(m.group(2) or "c", 1)
    return int(m.group(1)) * scale


# -- about the system -----------------------------------------------------------------

@applet("/bin", "uname [-amnrspvio]")
def uname(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "asnrvmpio")
    if parsed is None:
        return 1
    opts = parsed[0]
    a = sh.arch
    fields = [("s", "Linux"), ("n", sh.hostname), ("r", a.kernel),
              ("v", sh.sensor.kernel_build), ("m", a.uname),
              ("p", "unknown"), ("i", "unknown"), ("o", "GNU/Linux")]
    if "a" in opts:
        chosen = [v for k, v in fields if k not in "pi"]
    else:
        chosen = [v for k, v in fields if k in opts] or ["Linux"]
    io.out(" ".join(chosen) + "\n")
    return 0


@applet("/bin", "hostname [-s] [HOSTNAME | -F FILE]")
def hostname(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "sF:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if "F" in opts:
        data = _read(sh, io, opts["F"][-1], "hostname")
        if data is None:
            return 1
        operands = [data.decode("utf-8", "surrogateescape").split("\n")[0].strip()]
    if operands:
        sh.hostname = operands[0][:64]
        return 0
    io.out((sh.hostname.split(".")[0] if "s" in opts else sh.hostname) + "\n")
    return 0


@applet("/usr/bin", "id [OPTIONS] [USER]")
def id_(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "ugGn")
    if parsed is None:
        return 1
    opts, users = parsed
    if users and users[0] not in ("root", "0"):
        io.err(f"id: unknown user {users[0]}\n")
        return 1
    if {"u", "g", "G"} & opts.keys():
        io.out(("root" if "n" in opts else "0") + "\n")
    else:
        io.out("uid=0(root) gid=0(root) groups=0(root)\n")
    return 0


@applet("/usr/bin", "whoami")
def whoami(sh: Shell, io: Io, argv: list[str]) -> int:
    io.out("root\n")
    return 0


@applet("/usr/bin", "nproc")
def nproc(sh: Shell, io: Io, argv: list[str]) -> int:
    io.out(f"{sh.arch.cpus}\n")
    return 0


@applet("/usr/bin", "free [-bkm]")
def free(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "bkmg")
    if parsed is None:
        return 1
    opts = parsed[0]
    div = 1024 if "m" in opts else 1024 * 1024 if "g" in opts else 1
    mul = 1024 if "b" in opts else 1
    total = sh.arch.mem_kb
    free_kb, buffers = total * 38 // 100, total * 4 // 100
    used = total - free_kb

    def n(kb: int) -> int:
        return kb * mul // div

    io.out(f"{'':5}{'total':>13}{'used':>13}{'free':>13}{'shared':>13}{'buffers':>13}\n"
           f"{'Mem:':5}{n(total):>13}{n(used):>13}{n(free_kb):>13}{0:>13}{n(buffers):>13}\n"
           f"{'-/+ buffers:':18}{n(used - buffers):>13}{n(free_kb + buffers):>13}\n"
           f"{'Swap:':5}{0:>13}{0:>13}{0:>13}\n")
    return 0


@applet("/bin", "df [-kh]")
def df(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "kh")
    if parsed is None:
        return 1
    human = "h" in parsed[0]
    io.out(f"Filesystem           {'Size' if human else '1K-blocks':>9}      Used Available "
           "Use% Mounted on\n")
    for m in sh.fs.image.mounts:
        if m.blocks:
            pct = -(-m.used * 100 // m.blocks)
            sizes = [m.blocks, m.used, m.blocks - m.used]
            cells = " ".join(f"{_human(k * 1024) if human else k:>9}" for k in sizes)
            io.out(f"{m.device:<20} {cells} {pct:>3}% {m.point}\n")
    return 0


@applet("/usr/bin", "uptime")
def uptime(sh: Shell, io: Io, argv: list[str]) -> int:
    now = sh.now()
    up = int(now - sh.boot)
    days, rest = divmod(up, 86400)
    io.out(f" {time.strftime('%H:%M:%S', time.gmtime(now))} up {days} day"
           f"{'s' if days != 1 else ''}, {rest // 3600:2d}:{rest % 3600 // 60:02d},  "
           "load average: 0.08, 0.03, 0.05\n")
    return 0


@applet("/bin", "date [OPTIONS] [+FMT] [TIME]")
def date(sh: Shell, io: Io, argv: list[str]) -> int:
    now = sh.now()
    fmt = next((a[1:] for a in argv[1:] if a.startswith("+")), "%a %b %e %H:%M:%S UTC %Y")
    try:
        text = time.strftime(fmt.replace("%s", str(int(now)))[:256], time.gmtime(now))
    except ValueError:  # includes UnicodeEncodeError
        io.err("date: invalid date\n")
        return 1
    io.out(text + "\n")
    return 0


@applet("/bin", "ps")
def ps(sh: Shell, io: Io, argv: list[str]) -> int:
    io.out("PID   USER     COMMAND\n")
    for pid, (vsz, state, command) in sorted({**sh.processes, **sh.running}.items()):
        shown = f"{{{command.split()[0]}}} -sh" if pid in sh.running and \
            command.split()[:1] == ["ps"] else command
        io.out(f"{pid:5d} {'root':<8} {shown}\n")
    return 0


_SIGNALS = ("HUP", "INT", "QUIT", "ILL", "TRAP", "ABRT", "BUS", "FPE", "KILL", "USR1",
            "SEGV", "USR2", "PIPE", "ALRM", "TERM")


@builtin("kill")
@applet("/bin", "kill [-l] [-SIG] PID...")
def kill(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if args[:1] == ["-l"]:
        io.out("".join(f"{n:2d}) {name}\n" for n, name in enumerate(_SIGNALS, 1)))
        return 0
    if args[:1] == ["-s"]:
        args = args[2:]
    elif args and args[0].startswith("-") and len(args[0]) > 1:
        args = args[1:]
    if not args:
        return usage(sh, io, "kill")
    status = 0
    for arg in args:
        pid = _number(arg)
        if pid is None:
            io.err(f"kill: bad pid '{arg}'\n")
            status = 1
        elif pid == sh.pid:
            raise ShellExit(137)
        elif pid not in sh.processes:
            io.err(f"kill: can't kill pid {pid}: No such process\n")
            status = 1
        elif pid != 1:
            del sh.processes[pid]
    return status


@builtin("true")
@applet("/bin", "true")
def true(sh: Shell, io: Io, argv: list[str]) -> int:
    return 0


@builtin("false")
@applet("/bin", "false")
def false(sh: Shell, io: Io, argv: list[str]) -> int:
    return 1


@applet("/bin", "sleep [N]...")
def sleep(sh: Shell, io: Io, argv: list[str]) -> int:
    """Sleeps as a delay the caller waits out, as long as the line's limit allows."""
    if len(argv) < 2:
        return usage(sh, io, "sleep")
    total = 0.0
    for arg in argv[1:]:
        m = re.fullmatch(r"(\d{1,9}(?:\.\d{0,9})?)([smhd]?)", arg)
        if not m:
            io.err(f"sleep: invalid number '{arg}'\n")
            return 1
        total += float(m.group(1)) * {"": 1, "s": 1, "m": 60, "h": 3600, "d": 86400}[m.group(2)]
    sh.pause(total)
    return 0


# -- downloads: recorded, never fetched ---------------------------------------------


def _is_address(host: str) -> bool:
    """Whether C{host} is an address (True) rather than a name to resolve."""
    try:
        ipaddress.ip_address(host)
    except ValueError:
        return False
    return True


def _split_url(url: str) -> tuple[str, str, int | None, str] | None:
    """(scheme, host, port, path) of C{url}, or C{None} if it is not a URL."""
    try:
        parts = urllib.parse.urlsplit(url if "://" in url else "http://" + url)
        port = parts.port
    except ValueError:
        return None
    if not parts.hostname:
        return None
    return parts.scheme.lower(), parts.hostname, port, parts.path


@applet("/usr/bin", "wget [-cqS] [--spider] [-O FILE] [-o LOGFILE] [--header STR]\n"
        "\t[--post-data STR | --post-file FILE] [-Y on/off]\n"
        "\t[--no-check-certificate] [-P DIR] [-U AGENT] URL...\n\n"
        "Retrieve files via HTTP or FTP\n\n"
        "\t--spider\tOnly check URL existence: $? is 0 if exists\n"
        "\t--header STR\tAdd STR (of form 'header: value') to headers\n"
        "\t--post-data STR\tSend STR using POST method\n"
        "\t--post-file FILE\tSend FILE using POST method\n"
        "\t--no-check-certificate\tDon't validate the server's certificate\n"
        "\t-c\t\tContinue retrieval of aborted transfer\n\t-q\t\tQuiet\n"
        "\t-P DIR\t\tSave to DIR (default .)\n\t-S    \t\tShow server response\n"
        "\t-O FILE\t\tSave to FILE ('-' for stdout)\n\t-o LOGFILE\tLog messages to FILE\n"
        "\t-U STR\t\tUse STR for User-Agent header\n\t-Y on/off\tUse proxy")
def wget(sh: Shell, io: Io, argv: list[str]) -> int:
    longs = {"continue": False, "spider": False, "quiet": False, "output-document": True,
             "header": True, "proxy": True, "user-agent": True, "post-data": True,
             "no-check-certificate": False, "timeout": True, "tries": True}
    parsed = _parsed(sh, io, argv, "csqO:o:P:Y:U:T:t:", longs)
    if parsed is None:
        return 1
    opts, urls = parsed
    if not urls:
        return usage(sh, io, "wget")
    quiet = "q" in opts or "quiet" in opts
    target = (opts.get("O") or opts.get("output-document") or [None])[-1]
    for url in urls:
        split = _split_url(url)
        if split is None or split[0] not in ("http", "https", "ftp"):
            io.err(f"wget: not an http or ftp url: {url}\n")
            return 1
        scheme, host, port, path = split
        full = url if "://" in url else "http://" + url
        if target == "-":
            outfile = io.stdout_path or "-"
        else:
            name = target or posixpath.basename(path) or "index.html"
            outfile = sh.path(posixpath.join((opts.get("P") or ["."])[-1], name))
        sh.download(full, outfile, scheme)
        default = {"http": 80, "https": 443, "ftp": 21}[scheme]
        if not _is_address(host):
            io.err(f"wget: bad address '{host}'\n")
        else:
            if not quiet:
                shown = f"{host}:{port}" if port else host  # the host as the URL spells it
                io.err(f"Connecting to {shown} ({host}:{port or default})\n")
            sh.pause(sh.limits.net_timeout)
            io.err(f"wget: can't connect to remote host ({host}): Connection timed out\n")
    return 1


@applet("/usr/bin", "tftp [OPTIONS] HOST [PORT]\n\nTransfer a file from/to tftp server\n\n"
        "\t-l FILE\tLocal FILE\n\t-r FILE\tRemote FILE\n\t-g\tGet file\n\t-p\tPut file\n"
        "\t-b SIZE\tTransfer blocks in bytes")
def tftp(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "cgpl:r:b:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if "c" in opts and len(operands) == 3 and operands[1] in ("get", "put"):
        # the tftp-hpa form Gafgyt types: HOST -c get FILE
        opts.setdefault("g" if operands[1] == "get" else "p", [""])
        opts.setdefault("r", [operands[2]])
        operands = operands[:1]
    if not operands or ("g" in opts) == ("p" in opts):
        return usage(sh, io, "tftp")
    local = (opts.get("l") or [None])[-1]
    remote = (opts.get("r") or [local])[-1]
    if not remote:
        return usage(sh, io, "tftp")
    local = local or posixpath.basename(remote)
    host = operands[0]
    port = operands[1] if len(operands) > 1 else None
    if port is not None and (_number(port) is None or not 0 < int(port) < 65536):
        io.err(f"tftp: bad port '{port}'\n")
        return 1
    if "g" in opts:
        where = f"{host}:{port}" if port and port != "69" else host
        sh.download(f"tftp://{where}/{remote.lstrip('/')}", sh.path(local), "tftp")
    if not _is_address(host):
        io.err(f"tftp: bad address '{host}'\n")
    else:
        sh.pause(sh.limits.net_timeout)
        io.err("tftp: timeout\n")
    return 1


@applet("/usr/bin", "ftpget [OPTIONS] HOST [LOCAL_FILE] REMOTE_FILE\n\n"
        "Download a file via FTP\n\n\t-c\tContinue previous transfer\n\t-v\tVerbose\n"
        "\t-u USER\tUsername\n\t-p PASS\tPassword\n\t-P PORT")
def ftpget(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "cvu:p:P:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if len(operands) not in (2, 3):
        return usage(sh, io, "ftpget")
    host, remote = operands[0], operands[-1]
    local = operands[1] if len(operands) == 3 else posixpath.basename(remote)
    user = (opts.get("u") or [""])[-1]
    password = (opts.get("p") or [""])[-1]
    port = (opts.get("P") or [""])[-1]
    login = f"{user}:{password}@" if user and password else f"{user}@" if user else ""
    where = f"{host}:{port}" if port and port != "21" else host
    sh.download(f"ftp://{login}{where}/{remote.lstrip('/')}", sh.path(local), "ftp")
    if not _is_address(host):
        io.err(f"ftpget: bad address '{host}'\n")
    else:
        if "v" in opts:
            io.err(f"Connecting to {host} ({host}:{port or 21})\n")
        sh.pause(sh.limits.net_timeout)
        io.err(f"ftpget: can't connect to remote host ({host}): Connection timed out\n")
    return 1


def curl(sh: Shell, io: Io, argv: list[str]) -> int:
    """Not a BusyBox applet: C{/usr/bin/curl} is a program of its own."""
    longs = {"output": True, "remote-name": False, "silent": False, "show-error": False,
             "location": False, "insecure": False, "fail": False, "user-agent": True,
             "max-time": True, "connect-timeout": True, "retry": True, "request": True,
             "header": True, "data": True, "user": True, "proxy": True}
    try:
        opts, urls = options(argv, "o:OsSLkfA:m:X:H:d:u:x:v", longs)
    except BadUsage as e:
        io.err(f"{e}\ncurl: try 'curl --help' for more information\n")
        return 2
    if not urls:
        io.err("curl: try 'curl --help' for more information\n")
        return 2
    silent = ("s" in opts or "silent" in opts) and not ("S" in opts or "show-error" in opts)
    target = (opts.get("o") or opts.get("output") or [None])[-1]
    status = 0
    for url in urls:
        split = _split_url(url)
        if split is None:
            io.err("curl: (3) URL using bad/illegal format or missing URL\n")
            status = 3
            continue
        scheme, host, port, path = split
        full = url if "://" in url else "http://" + url
        if target is not None and target != "-":
            outfile = sh.path(target)
        elif "O" in opts or "remote-name" in opts:
            outfile = sh.path(posixpath.basename(path) or "index.html")
        else:
            outfile = io.stdout_path or "-"
        sh.download(full, outfile, scheme)
        if not _is_address(host):
            message, status = f"curl: (6) Could not resolve host: {host}", 6
        else:
            default = {"https": 443, "ftp": 21}.get(scheme, 80)
            message, status = (f"curl: (7) Failed to connect to {host} port {port or default}: "
                               "Connection timed out", 7)
            sh.pause(sh.limits.net_timeout)
        if not silent:
            io.err(message + "\n")
    return status
