"""The applets that read and write text: C{echo}, C{cat}, C{head},
C{tail}, C{wc}, C{grep}.  Worded as BusyBox words them, since loaders match
what they print."""

from __future__ import annotations

import re


from bbs.shell.applets.program import Io, Shell, as_bytes
from bbs.shell.applets.registry import applet, builtin, decimal, options_or_usage, read_input, usage
from bbs.shell.fs import FsError
from bbs.shell.regex import Regex, RegexError



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


@applet("/bin", "cat [-nbvteA] [FILE]...")
def cat(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "u")  # -u is ignored by every cat
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
    n = decimal(value.lstrip("+-"))
    if n is None:
        io.err(f"{name}: invalid number '{value}'\n")
    return n


def _head_tail(sh: Shell, io: Io, argv: list[str], head: bool) -> int:
    name = "head" if head else "tail"
    argv = [a if not re.fullmatch(r"-\d+", a) else "-n" + a[1:] for a in argv]
    parsed = options_or_usage(sh, io, argv, "n:c:qv")
    if parsed is None:
        return 1
    opts, files = parsed
    count = _count(io, (opts.get("c") or opts.get("n") or ["10"])[-1], name)
    if count is None:
        return 1
    status = 0
    files = files or ["-"]
    for k, file in enumerate(files):
        data = read_input(sh, io, file, name)
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
    parsed = options_or_usage(sh, io, argv, "clwm")
    if parsed is None:
        return 1
    opts, files = parsed
    wanted = [f for f in "lwc" if f in opts or (f == "c" and "m" in opts)] or ["l", "w", "c"]
    status = 0
    for file in files or ["-"]:
        data = read_input(sh, io, file, "wc")
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
    parsed = options_or_usage(sh, io, argv, "ivcqnlhHsEFe:")
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
        data = read_input(sh, io, file, "grep", quiet="s" in opts)
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
