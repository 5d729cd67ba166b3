"""One bot's BusyBox shell: lines in, output and events out.

The session owns the connection; this object only answers lines, so it can
be driven directly in tests and can never block, sleep, fork or fetch.
Everything it holds is bounded by L{ShellLimits}: a bot that exceeds the
command budget is simply disconnected (C{exit}), as if the device dropped it.
"""

from __future__ import annotations

import posixpath
from collections import ChainMap
from fnmatch import fnmatchcase

import attrs
from twisted.internet.interfaces import IReactorTime

from bbs.shell import applets
from bbs.shell.applets import BUILTINS, Handler, Io, ShellExit, Sink, dispatch
from bbs.shell.fs import ARCHES, BUSYBOX, DIR, FILE, FileSystem, FsError, FsLimits, build_image
from bbs.shell.parse import Command, Redirect, ShellSyntaxError, Word, expand, parse
from bbs.shell.payloads import Payload, PayloadWatch

_LAYOUT = applets.layout()
_EVENT_IDS = {
    "command.input": "cowrie.command.input",
    "command.failed": "cowrie.command.failed",
    "file_download": "cowrie.session.file_download",
}
# What the device was already running when the bot arrived: pid -> (vsz, state, command).
_PROCESSES = {
    1: (1444, "S", "init"), 2: (0, "SW", "[kthreadd]"), 3: (0, "SW", "[ksoftirqd/0]"),
    5: (0, "SW<", "[kworker/0:0H]"), 7: (0, "SW", "[rcu_preempt]"), 10: (0, "SW<", "[khelper]"),
    48: (0, "SW", "[kswapd0]"), 112: (0, "SW", "[mtdblock2]"),
    498: (1440, "S", "/sbin/syslogd -n"), 501: (1440, "S", "/sbin/klogd -n"),
    601: (1440, "S", "/usr/sbin/telnetd -F"), 622: (24316, "S", "/mnt/app/main"),
}
_SHELL_PID = 1187


@attrs.frozen
class ShellLimits:
    """What one bot session may consume."""

    max_files: int = 256  # files and directories it creates or changes
    max_bytes: int = 1 << 20  # bytes it writes, in total
    max_line: int = 16384  # characters in one line
    max_commands: int = 2000  # commands it runs, in total
    max_output: int = 256 * 1024  # bytes of output one line produces
    max_depth: int = 4  # scripts running scripts


@attrs.frozen
class ShellEvent:
    """Something worth logging.  C{kind} is C{command.input} (a command ran),
    C{command.failed} (no such command or applet) or C{file_download}."""

    kind: str = attrs.field(validator=attrs.validators.in_(_EVENT_IDS))
    input: str | None = None
    url: str | None = None
    outfile: str | None = None
    protocol: str | None = None

    @property
    def eventid(self) -> str:
        """The Cowrie event id this becomes in the event log."""
        return _EVENT_IDS[self.kind]

    @property
    def message(self) -> str:
        if self.kind == "command.input":
            return f"CMD: {self.input}"
        if self.kind == "command.failed":
            return f"Command not found: {self.input}"
        return f"Download attempt of {self.url} to {self.outfile} (not fetched)"

    def fields(self) -> dict[str, str]:
        """The event-log fields, for C{make_event(self.eventid, self.fields(), ...)}."""
        return {k: v for k, v in attrs.asdict(self).items() if k != "kind" and v is not None}


@attrs.frozen
class ShellResult:
    """What one line produced.  C{output} holds bytes that are not UTF-8 (a
    binary C{cat}) as lone surrogates; C{data} is the exact bytes to send."""

    output: str
    events: tuple[ShellEvent, ...]
    exit: bool
    payloads: tuple[Payload, ...] = ()

    @property
    def data(self) -> bytes:
        return self.output.encode("utf-8", "surrogateescape")


class _CommandBudget(Exception):
    """The session ran out of commands: it ends, whatever script is running."""


class BusyBoxShell:
    """The shell a bot gets after logging in, on a device of architecture C{arch}."""

    prompt = "# "

    def __init__(self, *, arch: str = "armv7l", hostname: str = "router", clock: IReactorTime,
                 limits: ShellLimits = ShellLimits(), seed: int = 0) -> None:
        if arch not in ARCHES:
            raise ValueError(f"unknown architecture {arch!r}; one of {', '.join(ARCHES)}")
        self.arch = ARCHES[arch]
        self.hostname = hostname
        self.clock = clock
        self.limits = limits
        self.payloads = PayloadWatch()
        self.fs = FileSystem(build_image(self.arch, hostname, _LAYOUT),
                             limits=FsLimits(limits.max_files, limits.max_bytes),
                             now=clock.seconds, seed=seed, watcher=self.payloads)
        self.cwd = "/root"
        self.env = {"HOME": "/root", "PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "SHELL": "/bin/sh",
                    "USER": "root", "LOGNAME": "root", "PWD": "/root", "TERM": "vt102",
                    "PS1": "# ", "IFS": " \t\n"}
        self.status = 0
        self.pid = _SHELL_PID
        self.processes = dict(_PROCESSES)
        self.processes[self.pid] = (1448, "S", "-sh")
        self.started = clock.seconds()
        self._last_pid = self.pid
        self._events: list[ShellEvent] = []
        self._commands = 0
        self._depth = 0
        self._exited = False

    def banner_after_login(self) -> str:
        return (f"\n\n{BUSYBOX} built-in shell (ash)\n"
                "Enter 'help' for a list of built-in commands.\n\n")

    def run(self, line: str) -> ShellResult:
        """Run one line typed at the prompt."""
        if self._exited:
            return ShellResult("", (), True)
        terminal = Sink(self.limits.max_output)
        io = Io(None, terminal, terminal, tty=True)
        self._events = []
        line = line.rstrip("\r\n")
        try:
            if len(line) > self.limits.max_line:
                self._record("command.failed", line[:self.limits.max_line])
                io.err("-sh: line too long\n")
            else:
                self._run_line(line, io)
        except (ShellExit, _CommandBudget):
            self._exited = True
        output = bytes(terminal.data).decode("utf-8", "surrogateescape")
        return ShellResult(output, tuple(self._events), self._exited, self.payloads.take())

    def finish(self) -> tuple[Payload, ...]:
        """The payloads still to keep when the session ends (see L{PayloadWatch})."""
        return self.payloads.finish(self.fs.lookup)

    # -- what applets use ------------------------------------------------------

    def path(self, name: str) -> str:
        """C{name} as an absolute path from the working directory."""
        return self.fs.abspath(self.cwd, name)

    def which(self, name: str) -> str | None:
        """The executable C{name} resolves to on C{$PATH}."""
        for directory in self.env.get("PATH", "").split(":")[:32]:
            candidate = posixpath.join(self.path(directory or "."), name)
            node = self.fs.lookup(candidate)
            if node is not None and node.kind == FILE and node.mode & 0o111:
                return candidate
        return None

    def download(self, url: str, outfile: str, protocol: str) -> None:
        self._events.append(ShellEvent("file_download", url=url, outfile=outfile,
                                       protocol=protocol))
        if outfile != "-":
            self.fs.download_to(outfile, url)

    def spawn(self) -> int:
        """A fresh process id, as each command a real shell runs gets one."""
        self._last_pid += 1
        return self._last_pid

    def run_script(self, data: bytes, io: Io) -> int:
        """Run C{data} line by line, as C{sh FILE} would; C{exit} ends only it."""
        if self._depth >= self.limits.max_depth:
            io.err("-sh: can't fork: Resource temporarily unavailable\n")
            return 2
        self._depth += 1
        inner = attrs.evolve(io, stdin=None)
        try:
            for line in data.decode("utf-8", "surrogateescape").split("\n"):
                self._run_line(line, inner)
        except ShellExit as e:
            self.status = e.status
        finally:
            self._depth -= 1
        return self.status

    # -- running -----------------------------------------------------------------

    def _record(self, kind: str, source: str) -> None:
        self._events.append(ShellEvent(kind, input=source.strip()))

    def _run_line(self, line: str, io: Io) -> None:
        try:
            steps = parse(line)
        except ShellSyntaxError as e:
            self._spend_command()
            self._record("command.failed", line)
            io.err(f"-sh: {e}\n")
            self.status = 2
            return
        for step in steps:
            if (step.op == "&&" and self.status != 0) or (step.op == "||" and self.status == 0):
                continue
            stdin = io.stdin
            for k, command in enumerate(step.pipeline):
                last = k == len(step.pipeline) - 1
                out = io.stdout if last else Sink(self.limits.max_output)
                stage = Io(stdin, out, io.stderr, io.stdout_path if last else None,
                           io.tty and last)
                self.status = self._run_command(command, stage)
                stdin = bytes(out.data)

    def _spend_command(self) -> None:
        self._commands += 1
        if self._commands > self.limits.max_commands:
            raise _CommandBudget()

    def _variables(self) -> ChainMap[str, str]:
        special = {"?": str(self.status), "$": str(self.pid), "#": "0", "0": "-sh", "!": "",
                   "-": "i", "@": "", "*": ""}
        return ChainMap(special, self.env)

    def _fields(self, word: Word, env: ChainMap[str, str]) -> list[str]:
        pattern = word.pattern
        if pattern is not None:
            matches = self._glob(pattern)
            if matches:
                return matches
        return expand(word, env)

    def _glob(self, pattern: str) -> list[str]:
        """The paths C{pattern} matches, spelled as the pattern was (relative or not)."""
        found = ["/" if pattern.startswith("/") else ""]
        for part in [p for p in pattern.split("/") if p]:
            step: list[str] = []
            for prefix in found:
                if not any(c in part for c in "*?["):
                    step.append(posixpath.join(prefix, part))
                    continue
                try:
                    names = self.fs.listdir(self.path(prefix or "."))
                except FsError:
                    continue
                step.extend(posixpath.join(prefix, n) for n in names
                            if fnmatchcase(n, part) and (part.startswith(".") or n[0] != "."))
            found = step[:1000]
        return sorted(p for p in found if self.fs.lookup(self.path(p), follow=False) is not None)

    def _resolve(self, argv: list[str]) -> tuple[Handler, list[str], bool]:
        """The function to run, its argv, and whether the command exists."""
        name = argv[0]
        if "/" not in name:
            if name in BUILTINS:
                return BUILTINS[name], argv, True
            path = self.which(name)
            if path is None:
                return applets.not_found, argv, False
        else:
            path = self.path(name)
        node = self.fs.lookup(path)
        if node is None:
            return applets.not_found, argv, False
        if node.kind == DIR:
            return applets.denied, argv, True
        if node.program and node.mode & 0o111:
            return dispatch(node.program, argv)
        return applets.run_file, argv, True

    def _run_command(self, command: Command, io: Io) -> int:
        self._spend_command()
        env = self._variables()
        argv: list[str] = []
        assignments: list[tuple[str, str]] = []
        for word in command.words:
            name = word.assignment if not argv else None
            if name is not None:
                value = "".join(env.get(p.text, "") if p.var else p.text for p in word.parts)
                assignments.append((name, value[len(name) + 1:]))
            else:
                argv.extend(self._fields(word, env))
        handler, argv, known = self._resolve(argv) if argv else (None, argv, True)
        self._record("command.input" if known else "command.failed", command.source)
        redirected = self._redirect(command.redirects, io, env)
        if redirected is None:
            return 1
        io, files = redirected
        if handler is None:
            self.env.update(assignments)
            status = 0
        else:
            status = handler(self, io, argv)
        for sink in files:
            try:
                self.fs.write(sink.path or "", bytes(sink.data), append=True)
            except FsError as e:
                io.err(f"-sh: write error: {e}\n")
                status = 1
        return status

    def _redirect(self, redirects: tuple[Redirect, ...], io: Io, env: ChainMap[str, str]
                  ) -> tuple[Io, list[Sink]] | None:
        """Apply redirections in order, as ash does; C{None} after printing why one failed."""
        streams = {1: io.stdout, 2: io.stderr}
        paths = {1: io.stdout_path, 2: None}
        stdin = io.stdin
        files: list[Sink] = []
        for r in redirects:
            fields = expand(r.target, env)
            if len(fields) != 1:
                io.err("-sh: ambiguous redirect\n")
                return None
            target = fields[0]
            if r.op in (">&", "<&"):
                if target == "-":
                    streams[r.fd] = Sink(0)
                elif target in ("1", "2"):
                    streams[r.fd] = streams[int(target)]
                    paths[r.fd] = paths[int(target)]
                elif target != "0":
                    io.err(f"-sh: {target}: bad file descriptor\n" if target.isdigit()
                           else f"-sh: {target}: bad number\n")
                    return None
            elif r.op == "<":
                try:
                    stdin = self.fs.read(self.path(target), self.limits.max_output)
                except FsError as e:
                    io.err(f"-sh: can't open {target}: {e}\n")
                    return None
            else:
                path = self.path(target)
                try:
                    self.fs.write(path, b"", append=r.op == ">>")
                except FsError as e:
                    io.err(f"-sh: can't create {target}: {e}\n")
                    return None
                sink = Sink(self.limits.max_bytes + 1, self.fs.resolve(path))
                files.append(sink)
                streams[r.fd] = sink
                paths[r.fd] = sink.path
        tty = io.tty and streams[1] is io.stdout
        return Io(stdin, streams[1], streams[2], paths[1], tty), files
