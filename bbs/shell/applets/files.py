"""The applets that list or change the filesystem: C{ls}, C{pwd},
C{mkdir}, C{rm}, C{rmdir}, C{cp}, C{mv}, C{chmod}, C{touch}, C{dd}.  Every
change goes through the shell's virtual filesystem, which records it."""

from __future__ import annotations

import posixpath
import re
import stat
import time
from collections.abc import Callable


from bbs.shell.applets.program import Io, Shell
from bbs.shell.applets.registry import applet, builtin, options_or_usage, usage
from bbs.shell.fs import DEV, DEVICES, DIR, FILE, LINK, FsError



def _mode_string(node_kind: str, mode: int) -> str:
    kind = {DIR: "d", LINK: "l", DEV: "c"}.get(node_kind, "-")
    return kind + stat.filemode(mode)[1:]


def _when(sh: Shell, mtime: float) -> str:
    t = time.gmtime(mtime)
    recent = abs(sh.now() - mtime) < 182 * 86400
    return time.strftime("%b %e %H:%M" if recent else "%b %e  %Y", t)


def human_size(size: int) -> str:
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
        size = f"{human_size(length) if human else length:>9}"
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
    parsed = options_or_usage(sh, io, argv, "1aAldhC")
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
    parsed = options_or_usage(sh, io, argv, "pm:")
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
    parsed = options_or_usage(sh, io, argv, "rRf")
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
    parsed = options_or_usage(sh, io, argv, "p")
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
    parsed = options_or_usage(sh, io, argv, "arRfp")
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
    parsed = options_or_usage(sh, io, argv, "f")
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
    parsed = options_or_usage(sh, io, argv, "c")
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
