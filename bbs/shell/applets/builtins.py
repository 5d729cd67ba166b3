"""ash's own commands: C{cd}, C{exit}, C{export}, and what bots use to
branch, loop and probe (C{test}, C{printf}, C{read}, C{set}, C{type},
C{ulimit}, C{exec}, C{eval}, C{break}), worded as BusyBox 1.35's ash words
them.  Each is a
plain function C{(shell, io, argv) -> exit status}, registered by name.
"""

from __future__ import annotations

import re

from bbs.shell.applets.program import Io, LoopControl, Shell, ShellExit, as_bytes
from bbs.shell.applets.registry import APPLETS, applet, builtin, decimal
from bbs.shell.applets.text import unescape
from bbs.shell.fs import DIR, FILE, LINK, FsError

# ash's builtins, in the order its help lists them.
ASH_BUILTINS = (". : [ [[ alias bg break cd chdir command continue echo eval exec exit export "
                "false fg getopts hash help history jobs kill let local printf pwd read "
                "readonly return set shift source test times trap true type ulimit umask "
                "unalias unset wait").split()
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


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
    status = decimal(argv[1]) if len(argv) > 1 else sh.status
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


def _loop_control(sh: Shell, io: Io, argv: list[str]) -> int:
    levels = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() and int(argv[1]) > 0 else 1
    raise LoopControl(argv[0], levels)


builtin("break", "continue")(_loop_control)


@builtin("help")
def help_(sh: Shell, io: Io, argv: list[str]) -> int:
    """ash's list, then the applets it can run, wrapped as ash wraps it."""
    out, col = ["\nBuilt-in commands:\n------------------\n"], 0
    for name in ASH_BUILTINS + sorted(APPLETS):
        piece = ("\t" if col == 0 else " ") + name
        out.append(piece)
        col += len(piece)
        if col > 60:
            out.append("\n")
            col = 0
    out.append("\n\n")
    io.out("".join(out)[1:])
    return 0


@builtin(":")
def colon(sh: Shell, io: Io, argv: list[str]) -> int:
    return 0


@builtin("eval")
def eval_(sh: Shell, io: Io, argv: list[str]) -> int:
    return sh.run_string(" ".join(argv[1:]), io) if len(argv) > 1 else 0


@builtin(".", "source")
def source(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        io.err(f"-sh: {argv[0]}: filename argument required\n")
        return 2
    name = argv[1]
    path = sh.which(name) if "/" not in name else sh.path(name)
    try:
        data = sh.fs.read(sh.path(path or name), sh.limits.max_bytes)
    except FsError:
        io.err(f"-sh: {argv[0]}: can't open '{name}': No such file or directory\n")
        return 2
    return sh.run_string(data.decode("utf-8", "surrogateescape"), io)


@builtin("exec")
def exec_(sh: Shell, io: Io, argv: list[str]) -> int:
    """C{exec CMD} runs CMD in place of the shell: when it ends, so does the session."""
    if len(argv) < 2:
        return 0
    kind, _ = sh.resolve(argv[1])
    if kind == "missing":
        io.err(f"-sh: exec: {argv[1]}: not found\n")
        raise ShellExit(127)
    status = sh.run_string(" ".join(_quote(a) for a in argv[1:]), io)
    raise ShellExit(status)


def _quote(text: str) -> str:
    return "'" + text.replace("'", "'\\''") + "'"


@builtin("command")
def command(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if args[:1] in (["-v"], ["-V"]):
        status = 0
        for name in args[1:]:
            kind, path = sh.resolve(name)
            if kind == "missing":
                status = 127
                if args[0] == "-V":
                    io.out(f"{name}: not found\n")
            elif args[0] == "-v":
                io.out((path if kind == "file" else name) + "\n")
            else:
                io.out(_describe(name, kind, path))
        return status
    if not args:
        return 0
    return sh.run_string(" ".join(_quote(a) for a in args), io)


def _describe(name: str, kind: str, path: str | None) -> str:
    if kind == "file" and path and "/" not in name and name in APPLETS \
            and path.rsplit("/", 1)[0] in ("/bin", "/sbin", "/usr/bin", "/usr/sbin"):
        path = name  # ash runs its applets without a $PATH search, and says so
    return {"alias": f"{name} is an alias for {path}\n",
            "keyword": f"{name} is a shell keyword\n",
            "builtin": f"{name} is a shell builtin\n",
            "file": f"{name} is {path}\n"}.get(kind, f"{name}: not found\n")


@builtin("type")
def type_(sh: Shell, io: Io, argv: list[str]) -> int:
    status = 0
    for name in argv[1:]:
        kind, path = sh.resolve(name)
        io.out(_describe(name, kind, path))
        if kind == "missing":
            status = 127
    return status


@builtin("set")
def set_(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    if not args:
        for name in sorted(sh.env):
            value = sh.env[name].replace("'", "'\\''")
            io.out(f"{name}='{value}'\n")
        return 0
    while args and args[0][:1] in ("-", "+") and args[0] != "--":
        if args[0] in ("-o", "+o"):
            args = args[2:]
            continue
        if not re.fullmatch(r"[-+][aCefhmnuvx]+", args[0]):
            io.err(f"-sh: set: illegal option {args[0]}\n")
            return 2
        args = args[1:]
    if args[:1] == ["--"]:
        sh.args = args[1:]
    elif args:
        sh.args = args
    return 0


@builtin("shift")
def shift(sh: Shell, io: Io, argv: list[str]) -> int:
    n = int(argv[1]) if len(argv) > 1 and argv[1].isdigit() else 1
    if n > len(sh.args):
        return 1
    sh.args = sh.args[n:]
    return 0


@builtin("unset")
def unset(sh: Shell, io: Io, argv: list[str]) -> int:
    for name in argv[1:]:
        if name.startswith("-"):
            continue
        if name in sh.readonly:
            io.err(f"-sh: unset: {name}: is read only\n")
            return 1
        sh.env.pop(name, None)
    return 0


@builtin("readonly")
def readonly(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) == 1 or argv[1] == "-p":
        for name in sorted(sh.readonly):
            io.out(f"readonly {name}='{sh.env.get(name, '')}'\n")
        return 0
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if eq:
            sh.set_variable(name, value)
        sh.readonly.add(name)
    return 0


@builtin("local")
def local(sh: Shell, io: Io, argv: list[str]) -> int:
    io.err("-sh: local: not in a function\n")
    return 2


@builtin("return")
def return_(sh: Shell, io: Io, argv: list[str]) -> int:
    """Outside a function or a sourced file ash lets C{return} pass."""
    return int(argv[1]) & 0xFF if len(argv) > 1 and argv[1].isdigit() else sh.status


@builtin("let")
def let(sh: Shell, io: Io, argv: list[str]) -> int:
    from bbs.shell.arith import ArithError, evaluate
    if len(argv) < 2:
        io.err("-sh: let: expression expected\n")
        return 1
    value = 0
    for expression in argv[1:]:
        try:
            value = evaluate(expression, lambda n: sh.variable(n) or "",
                             lambda n, v: sh.set_variable(n, v) and None)
        except ArithError as e:
            io.err(f"-sh: let: {e}\n")
            return 1
    return int(value == 0)


@builtin("read")
def read(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    raw = False
    while args and args[0].startswith("-") and len(args[0]) > 1:
        flag = args.pop(0)
        if flag == "-r":
            raw = True
        elif flag in ("-p", "-t", "-n", "-u", "-d") and args:
            if flag == "-p":
                io.err(args[0])
            args.pop(0)
        elif flag != "-s":
            io.err(f"-sh: read: illegal option {flag}\n")
            return 2
    for name in args:
        if not _NAME.fullmatch(name):
            io.err(f"-sh: read: '{name}': not a valid identifier\n")
            return 2
    names = args or ["REPLY"]
    line = io.source.line() if io.source is not None else None
    if line is None:
        for name in names:
            sh.set_variable(name, "")
        return 1
    text = line.decode("utf-8", "surrogateescape")
    if not raw:
        text = re.sub(r"\\(.)", r"\1", text)
    ifs = sh.env.get("IFS", " \t\n")
    fields = text.split(None, len(names) - 1) if ifs.strip() == "" else \
        re.split("[" + re.escape(ifs) + "]", text, maxsplit=len(names) - 1)
    for k, name in enumerate(names):
        value = fields[k] if k < len(fields) else ""
        sh.set_variable(name, value.rstrip(ifs) if k == len(names) - 1 else value)
    return 0


_ULIMITS = (
    ("c", "core file size (blocks)", "0"), ("d", "data seg size (kb)", "unlimited"),
    ("e", "scheduling priority", "0"), ("f", "file size (blocks)", "unlimited"),
    ("i", "pending signals", "{procs}"), ("l", "max locked memory (kb)", "64"),
    ("m", "max memory size (kb)", "unlimited"), ("n", "open files", "1024"),
    ("q", "POSIX message queues (bytes)", "819200"), ("r", "real-time priority", "0"),
    ("s", "stack size (kb)", "8192"), ("t", "cpu time (seconds)", "unlimited"),
    ("u", "max user processes", "{procs}"), ("v", "virtual memory (kb)", "unlimited"),
    ("x", "file locks", "unlimited"),
)


_HARD = {"n": 4096, "c": 0}  # the hard limits a login on the device gets


@builtin("ulimit")
def ulimit(sh: Shell, io: Io, argv: list[str]) -> int:
    procs = str(sh.arch.mem_kb // 128)
    table = {k: (label, value.format(procs=procs)) for k, label, value in _ULIMITS}
    limits = sh.ulimits
    for k, (_, value) in table.items():
        limits.setdefault(k, value)
    args = argv[1:]
    letters = "f"
    if args and args[0].startswith("-"):
        letters = args.pop(0)[1:].replace("H", "").replace("S", "") or "f"
    if letters == "a":
        for k, (label, _) in table.items():
            io.out(f"{label:<32}(-{k}) {limits[k]}\n")
        return 0
    letter = letters[-1]
    if letter not in table:
        io.err(f"-sh: ulimit: illegal option -{letter}\n")
        return 2
    if args:
        value = args[0]
        if value != "unlimited" and not value.isdigit():
            io.err("-sh: ulimit: bad number\n")
            return 2
        hard = _HARD.get(letter)
        if hard is not None and (value == "unlimited" or int(value) > hard):
            io.err("sh: error setting limit: Operation not permitted\n")
            return 1
        limits[letter] = value
        return 0
    io.out(limits[letter] + "\n")
    return 0


@builtin("umask")
def umask(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) > 1 and re.fullmatch(r"[0-7]{1,4}", argv[1]):
        sh.umask = int(argv[1], 8)
    elif len(argv) > 1:
        io.err(f"-sh: umask: Illegal number: {argv[1]}\n")
        return 2
    else:
        io.out(f"{sh.umask:04o}\n")
    return 0


@builtin("times")
def times(sh: Shell, io: Io, argv: list[str]) -> int:
    io.out("0m0.010s 0m0.020s\n0m0.000s 0m0.000s\n")
    return 0


@builtin("trap")
def trap(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) == 1:
        for signal, action in sorted(sh.traps.items()):
            io.out(f"trap -- {_quote(action)} {signal}\n")
        return 0
    action, signals = argv[1], argv[2:]
    for signal in signals:
        if action == "-":
            sh.traps.pop(signal, None)
        else:
            sh.traps[signal] = action
    return 0


@builtin("alias")
def alias(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) == 1:
        for name, value in sorted(sh.aliases.items()):
            io.out(f"{name}={_quote(value)}\n")
        return 0
    status = 0
    for arg in argv[1:]:
        name, eq, value = arg.partition("=")
        if eq:
            sh.aliases[name] = value
        elif name in sh.aliases:
            io.out(f"{name}={_quote(sh.aliases[name])}\n")
        else:
            io.err(f"-sh: alias: {name} not found\n")
            status = 1
    return status


@builtin("unalias")
def unalias(sh: Shell, io: Io, argv: list[str]) -> int:
    if argv[1:2] == ["-a"]:
        sh.aliases.clear()
        return 0
    status = 0
    for name in argv[1:]:
        if sh.aliases.pop(name, None) is None:
            io.err(f"-sh: unalias: {name} not found\n")
            status = 1
    return status


@builtin("hash", "wait")
def quiet(sh: Shell, io: Io, argv: list[str]) -> int:
    """Nothing runs in the background and nothing is hashed: nothing to say."""
    return 0


@builtin("jobs")
def jobs(sh: Shell, io: Io, argv: list[str]) -> int:
    return 0


@builtin("fg", "bg")
def fg(sh: Shell, io: Io, argv: list[str]) -> int:
    io.err(f"-sh: {argv[0]}: No current job\n")
    return 2


@builtin("history")
def history(sh: Shell, io: Io, argv: list[str]) -> int:
    for n, line in enumerate(sh.history, 1):
        io.out(f"{n:>5} {line}\n")
    return 0


@builtin("getopts")
def getopts(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) < 3:
        io.err("-sh: getopts: usage: getopts optstring var [arg]\n")
        return 2
    spec, name, args = argv[1], argv[2], argv[3:] or sh.args
    index = int(sh.variable("OPTIND") or "1")
    if index > len(args) or not args[index - 1].startswith("-") or args[index - 1] == "-":
        sh.set_variable(name, "?")
        return 1
    letter = args[index - 1][1:2]
    sh.set_variable("OPTIND", str(index + 1))
    k = spec.find(letter)
    if k < 0 or letter == ":":
        io.err(f"Illegal option -{letter}\n")
        sh.set_variable(name, "?")
        return 0
    if spec[k + 1:k + 2] == ":":
        value = args[index - 1][2:] or (args[index] if index < len(args) else "")
        sh.set_variable("OPTARG", value)
        if not args[index - 1][2:]:
            sh.set_variable("OPTIND", str(index + 2))
    sh.set_variable(name, letter)
    return 0


# -- test / [ -----------------------------------------------------------------------

class _TestError(Exception):
    pass


def _integer(text: str) -> int:
    if re.fullmatch(r"\s*[-+]?\d+\s*", text):
        return int(text)
    raise _TestError(f"{text}: bad number")


def _unary(sh: Shell, op: str, arg: str) -> bool:
    if op == "-n":
        return arg != ""
    if op == "-z":
        return arg == ""
    if op == "-t":
        return arg in ("0", "1", "2")
    path = sh.path(arg) if arg else ""
    node = sh.fs.lookup(path, follow=op not in ("-h", "-L")) if path else None
    if node is None:
        return False
    return {
        "-e": True, "-f": node.kind == FILE, "-d": node.kind == DIR,
        "-h": node.kind == LINK, "-L": node.kind == LINK, "-s": bool(node.data) or node.kind == DIR,
        "-r": True, "-w": sh.fs.mount(sh.fs.resolve(path)).writable,
        "-x": bool(node.mode & 0o111), "-c": node.kind == "dev", "-b": False, "-p": False,
        "-S": False, "-u": bool(node.mode & 0o4000), "-g": bool(node.mode & 0o2000),
        "-k": bool(node.mode & 0o1000), "-O": True, "-G": True,
    }[op]


_UNARY = {"-n", "-z", "-t", "-e", "-f", "-d", "-h", "-L", "-s", "-r", "-w", "-x", "-c", "-b", "-p",
          "-S", "-u", "-g", "-k", "-O", "-G"}
_BINARY = {"=", "==", "!=", "-eq", "-ne", "-lt", "-le", "-gt", "-ge", "<", ">", "-nt", "-ot",
           "-ef"}


def _evaluate(sh: Shell, args: list[str]) -> bool:
    pos = 0

    def expr() -> bool:
        nonlocal pos
        value = term()
        while pos < len(args) and args[pos] == "-o":
            pos += 1
            value = term() or value
        return value

    def term() -> bool:
        nonlocal pos
        value = factor()
        while pos < len(args) and args[pos] == "-a":
            pos += 1
            value = factor() and value
        return value

    def factor() -> bool:
        nonlocal pos
        if pos >= len(args):
            raise _TestError("argument expected")
        tok = args[pos]
        if tok == "!" and pos + 1 < len(args):
            pos += 1
            return not factor()
        if tok == "(" and pos + 2 < len(args):
            pos += 1
            value = expr()
            if pos >= len(args) or args[pos] != ")":
                raise _TestError("closing paren expected")
            pos += 1
            return value
        if pos + 2 < len(args) + 0 and args[pos + 1] in _BINARY:
            left, op, right = tok, args[pos + 1], args[pos + 2]
            pos += 3
            return _binary(sh, left, op, right)
        if tok in _UNARY and pos + 1 < len(args):
            pos += 2
            return _unary(sh, tok, args[pos - 1])
        pos += 1
        return tok != ""

    value = expr()
    if pos != len(args):
        raise _TestError(f"{args[pos]}: unknown operand")
    return value


def _binary(sh: Shell, left: str, op: str, right: str) -> bool:
    if op in ("=", "=="):
        return left == right
    if op == "!=":
        return left != right
    if op in ("<", ">"):
        return left < right if op == "<" else left > right
    if op in ("-nt", "-ot", "-ef"):
        a, b = sh.fs.lookup(sh.path(left)), sh.fs.lookup(sh.path(right))
        if a is None or b is None:
            return False
        return a.mtime > b.mtime if op == "-nt" else a.mtime < b.mtime if op == "-ot" else a == b
    a, b = _integer(left), _integer(right)
    return {"-eq": a == b, "-ne": a != b, "-lt": a < b, "-le": a <= b, "-gt": a > b,
            "-ge": a >= b}[op]


@builtin("test", "[", "[[")
@applet("/usr/bin", "test EXPRESSION ]", "test", "[", "[[")
def test(sh: Shell, io: Io, argv: list[str]) -> int:
    args = argv[1:]
    name = argv[0].rsplit("/", 1)[-1]
    if name in ("[", "[["):
        close = "]" if name == "[" else "]]"
        if not args or args[-1] != close:
            io.err(f"sh: missing {close}\n")
            return 2
        args = args[:-1]
    if not args:
        return 1
    try:
        return 0 if _evaluate(sh, args) else 1
    except _TestError as e:
        io.err(f"sh: {e}\n")
        return 2


# -- printf ----------------------------------------------------------------------------

_SPEC = re.compile(rb"%([-+ #0]*)(\*|\d+)?(?:\.(\*|\d+))?([diouxXcsbeEfgG%])")


def _printf_number(io: Io, text: str) -> int:
    text = text.strip()
    if text[:1] in ("'", '"'):
        return ord(text[1]) if len(text) > 1 else 0
    m = re.fullmatch(r"([-+]?)(0[xX][0-9a-fA-F]+|0[0-7]*|\d+)", text)
    if not m:
        io.err(f"sh: invalid number '{text}'\n")
        raise ValueError(text)
    body = m.group(2)
    base = 16 if body[:2].lower() == "0x" else 8 if body.startswith("0") and len(body) > 1 else 10
    return int(m.group(1) + body, base)


@builtin("printf")
@applet("/usr/bin", "printf FORMAT [ARG]...")
def printf(sh: Shell, io: Io, argv: list[str]) -> int:
    if len(argv) < 2:
        io.err(f"{sh.sensor.busybox} multi-call binary.\n\nUsage: printf FORMAT [ARG]...\n")
        return 1
    fmt = unescape(as_bytes(argv[1]))[0]
    args = argv[2:]
    out = bytearray()
    status = 0
    for _ in range(1000):
        used = 0

        def next_arg() -> str | None:
            nonlocal used
            if used < len(args):
                used += 1
                return args[used - 1]
            return None

        pos = 0
        for m in _SPEC.finditer(fmt):
            out += fmt[pos:m.start()]
            pos = m.end()
            flags, width, precision, conv = (g.decode() if g else "" for g in m.groups())
            if conv == "%":
                out += b"%"
                continue
            if width == "*":
                width = str(_printf_number(io, next_arg() or "0"))
            if precision == "*":
                precision = str(_printf_number(io, next_arg() or "0"))
            arg = next_arg()
            spec = "%" + flags + width + (f".{precision}" if precision else "")
            try:
                if conv in "diouxXc" and conv != "c":
                    try:
                        value = _printf_number(io, arg) if arg else 0
                    except ValueError:
                        value, status = 0, 1
                    if conv in "ouxX":
                        value &= (1 << 64) - 1
                    out += as_bytes(((spec + ("d" if conv == "i" else conv)) % value))
                elif conv == "c":
                    out += as_bytes(arg[:1] if arg else "")
                elif conv in "eEfgG":
                    out += as_bytes((spec + conv) % float(arg or 0))
                elif conv == "b":
                    out += as_bytes(spec % unescape(as_bytes(arg or ""))[0]
                                  .decode("utf-8", "surrogateescape"))
                else:
                    out += as_bytes((spec + "s") % (arg or ""))
            except ValueError:
                status = 1
        out += fmt[pos:]
        if used == 0 or used >= len(args):
            break
        args = args[used:]
    io.out(bytes(out))
    return status
