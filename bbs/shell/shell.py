"""One bot's BusyBox shell: lines in, output, delays and events out.

The session owns the connection; this object only answers lines, so it can
be driven directly in tests and can never block, sleep, fork or fetch.  What
takes time on a device (C{sleep}, a download timing out) is returned as
pauses the caller waits out on its own clock.  Everything it holds is
bounded by L{ShellLimits}: loops stop at an iteration cap, output at a byte
cap, and a bot that exceeds the command budget is simply disconnected
(C{exit}), as if the device dropped it.
"""

from __future__ import annotations

import posixpath
import random
from fnmatch import fnmatchcase

import attrs
from twisted.internet.interfaces import IReactorTime

from bbs.shell.applets.program import Handler, Io, LoopControl, Reader, ShellExit, Sink, as_bytes
from bbs.shell.applets.programs import denied, dispatch, layout, not_found, run_file
from bbs.shell.applets.registry import BUILTINS
from bbs.shell.arith import ArithError, evaluate
from bbs.shell.fs import DIR, FILE, FileSystem, FsError, FsLimits
from bbs.shell.image import build_image
from bbs.shell.limits import ShellLimits
from bbs.shell.parse import Incomplete, ShellSyntaxError, parse, template
from bbs.shell.payloads import Payload, PayloadWatch
from bbs.shell.processors import ARCHES
from bbs.shell.procfs import Proc
from bbs.shell.results import ShellEvent, ShellResult
from bbs.shell.sensor import Sensor
from bbs.shell.syntax import (
    AndOr, Case, Command, For, Group, If, Loop, Node, Part, Pipeline, Redirect, Script, Word,
)

_LAYOUT = layout()


class _CommandBudget(Exception):
    """The session ran out of commands: it ends, whatever script is running."""


class _Abort(Exception):
    """An expansion failed (C{${x?}}, bad arithmetic): the command does not run."""


class BusyBoxShell:
    """The shell a bot gets after logging in, on a device of architecture C{arch}.

    C{sensor} is a value the caller derives from something stable (its data
    directory): hostname, build stamp, process ids, uptime and hashes follow
    from it, so each sensor differs from the others and stays the same itself.
    """

    def __init__(self, *, arch: str = "armv7l", hostname: str | None = None,
                 clock: IReactorTime, limits: ShellLimits = ShellLimits(), seed: int = 0,
                 sensor: str = "") -> None:
        if arch not in ARCHES:
            raise ValueError(f"unknown architecture {arch!r}; one of {', '.join(ARCHES)}")
        self.sensor = Sensor.derive(sensor, hostname)
        self.arch = ARCHES[arch]
        self.hostname = self.sensor.hostname
        self.clock = clock
        self.limits = limits
        self.payloads = PayloadWatch()
        self.fs = FileSystem(build_image(self.arch, self.sensor, _LAYOUT),
                             limits=FsLimits(limits.max_files, limits.max_bytes),
                             now=self.now, seed=seed, dynamic=Proc(self), watcher=self.payloads)
        self.random = random.Random(f"{sensor}/{seed}")
        self.cwd = "/root"
        self.env = {"HOME": "/root", "PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "SHELL": "/bin/sh",
                    "USER": "root", "LOGNAME": "root", "PWD": "/root", "TERM": "vt102",
                    "PS1": "# ", "PS2": "> ", "IFS": " \t\n", "PPID": "1"}
        self.args: list[str] = []
        self.aliases: dict[str, str] = {}
        self.traps: dict[str, str] = {}
        self.readonly: set[str] = set()
        self.history: list[str] = []
        self.umask = 0o022
        self.ulimits: dict[str, str] = {}  # what ulimit set, by option letter
        self.tty = True  # a telnet session has a terminal; False lays output out as for a pipe
        self.status = 0
        self.processes = self.sensor.processes()
        self.pid = self.sensor.shell_pid
        self.processes[self.pid] = (1448, "S", "-sh")
        self.running: dict[int, tuple[int, str, str]] = {}  # the pipeline being run
        self.current_pid = self.pid  # the process doing what runs now (/proc/self)
        self._stage_pid: int | None = None
        self.started = clock.seconds()
        self.boot = self.started - self.sensor.uptime
        self._last_pid = self.pid
        self._events: list[ShellEvent] = []
        self._pauses: list[tuple[int, float]] = []
        self._terminal = Sink(0)
        self._commands = 0
        self._depth = 0
        self._exited = False
        self._pending = ""

    @property
    def prompt(self) -> str:
        """C{# }, or C{> } while a script typed over several lines is unfinished."""
        return self.env.get("PS2", "> ") if self._pending else self.env.get("PS1", "# ")

    def banner_after_login(self) -> str:
        return (f"\n\n{self.sensor.busybox} built-in shell (ash)\n"
                "Enter 'help' for a list of built-in commands.\n\n")

    def run(self, line: str) -> ShellResult:
        """Run one line typed at the prompt."""
        if self._exited:
            return ShellResult("", (), True)
        terminal = Sink(self.limits.max_output)
        self._terminal = terminal
        io = Io(None, terminal, terminal, tty=self.tty)
        self._events = []
        self._pauses = []
        line = line.rstrip("\r\n")
        try:
            if len(line) > self.limits.max_line or \
                    len(self._pending) + len(line) > self.limits.max_pending:
                self._pending = ""
                self._record("command.failed", line[:self.limits.max_line])
                io.err("-sh: line too long\n")
            else:
                if self.history[-1:] != [line] and line.strip():
                    self.history = (self.history + [line])[-100:]
                self._run_text(self._pending + line, io, typed=True)
        except (ShellExit, _CommandBudget):
            self._exited = True
        output = bytes(terminal.data).decode("utf-8", "surrogateescape")
        return ShellResult(output, tuple(self._events), self._exited, tuple(self._pauses),
                           self.payloads.take())

    def finish(self) -> tuple[Payload, ...]:
        """The payloads still to keep when the session ends (see L{PayloadWatch})."""
        return self.payloads.finish(self.fs.lookup)

    # -- what applets use ------------------------------------------------------

    def now(self) -> float:
        """The device's time: the caller's clock plus what this line has waited."""
        return self.clock.seconds() + sum(s for _, s in self._pauses)

    def pause(self, seconds: float) -> float:
        """Ask the caller to wait C{seconds} here (within the line's limit); the
        seconds granted."""
        granted = max(0.0, min(seconds, self.limits.max_delay - sum(s for _, s in self._pauses)))
        if granted > 0:
            self._pauses.append((len(self._terminal.data), granted))
        return granted

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

    def run_script(self, data: bytes, io: Io, args: list[str] | None = None) -> int:
        """Run C{data} as C{sh FILE} would; C{exit} ends only it."""
        if self._depth >= self.limits.max_depth:
            io.err("-sh: can't fork: Resource temporarily unavailable\n")
            return 2
        self._depth += 1
        saved = self.args
        if args is not None:
            self.args = args
        try:
            self._run_text(data.decode("utf-8", "surrogateescape"), attrs.evolve(io, source=None))
        except ShellExit as e:
            self.status = e.status
        finally:
            self._depth -= 1
            self.args = saved
        return self.status

    def run_string(self, text: str, io: Io) -> int:
        """Run C{text} in this shell (C{eval}, C{.}): C{exit} ends the shell."""
        if self._depth >= self.limits.max_depth:
            io.err("-sh: can't fork: Resource temporarily unavailable\n")
            return 2
        self._depth += 1
        try:
            self._run_text(text, io)
        finally:
            self._depth -= 1
        return self.status

    def resolve(self, name: str) -> tuple[str, str | None]:
        """How C{type} describes C{name}: (kind, path) with kind one of
        C{builtin}, C{file}, C{alias}, C{keyword} or C{missing}."""
        if name in self.aliases:
            return "alias", self.aliases[name]
        if name in _KEYWORDS:
            return "keyword", None
        if "/" not in name and name in BUILTINS:
            return "builtin", None
        path = self.which(name) if "/" not in name else self.path(name)
        node = self.fs.lookup(path) if path else None
        if path and node is not None and node.kind == FILE:
            return "file", path if "/" not in name else name
        return "missing", None

    # -- running -----------------------------------------------------------------

    def _record(self, kind: str, source: str) -> None:
        self._events.append(ShellEvent(kind, input=source.strip()))

    def _run_text(self, text: str, io: Io, typed: bool = False) -> None:
        try:
            script = parse(text)
        except Incomplete:
            if typed:
                self._pending = text + "\n"
                return
            self._syntax_error(text, "syntax error: unexpected end of file", io)
            return
        except ShellSyntaxError as e:
            self._pending = ""
            self._syntax_error(text, str(e), io)
            return
        self._pending = ""
        try:
            self._script(script, io)
        except LoopControl:
            pass

    def _syntax_error(self, text: str, message: str, io: Io) -> None:
        self._spend_command()
        self._record("command.failed", text.strip().replace("\n", "; "))
        io.err(f"-sh: {message}\n")
        self.status = 2

    def _script(self, script: Script, io: Io) -> int:
        for item in script:
            self._and_or(item, io)
        return self.status

    def _and_or(self, item: AndOr, io: Io) -> None:
        for step in item.steps:
            if (step.op == "&&" and self.status != 0) or (step.op == "||" and self.status == 0):
                continue
            self.status = self._pipeline(step.pipeline, io)

    def _pipeline(self, pipeline: Pipeline, io: Io) -> int:
        source = io.source
        stages = pipeline.commands
        pids = []
        if len(stages) > 1:
            for node in stages:
                pid = self.spawn()
                pids.append(pid)
                text = node.source if isinstance(node, Command) else "-sh"
                self.running[pid] = (1440, "S", text)
        status = 0
        try:
            for k, node in enumerate(stages):
                last = k == len(stages) - 1
                out = io.stdout if last else Sink(self.limits.max_output)
                stage = Io(source, out, io.stderr, io.stdout_path if last else None,
                           io.tty and last)
                self._stage_pid = pids[k] if pids else None
                status = self._node(node, stage)
                source = Reader(bytes(out.data))
        finally:
            for pid in pids:
                self.running.pop(pid, None)
        return int(status == 0) if pipeline.negate else status

    def _node(self, node: Node, io: Io) -> int:
        if isinstance(node, Command):
            return self._command(node, io)
        self._spend_command()
        redirected = self._redirect(node.redirects, io)
        if redirected is None:
            return 1
        io, files = redirected
        try:
            status = self._compound(node, io)
        finally:
            self._flush(files, io)
        return status

    def _round(self, body: Script, io: Io, status: int) -> int | None:
        """One round of a loop's body: the loop's status after it, or None
        when it breaks out; C{continue} keeps the status it had."""
        try:
            return self._script(body, io)
        except LoopControl as c:
            if c.levels > 1:
                raise LoopControl(c.kind, c.levels - 1) from None
            return None if c.kind == "break" else status

    def _compound(self, node: Node, io: Io) -> int:
        if isinstance(node, If):
            for condition, body in node.branches:
                if self._script(condition, io) == 0:
                    return self._script(body, io)
            return self._script(node.otherwise, io) if node.otherwise else 0
        if isinstance(node, Loop):
            status = 0
            for _ in range(self.limits.max_iterations):
                if (self._script(node.condition, io) == 0) == node.until:
                    break
                after = self._round(node.body, io, status)
                if after is None:
                    break
                status = after
            self.status = status
            return status
        if isinstance(node, For):
            items = self.args if node.items is None else \
                [f for w in node.items for f in self._fields(w)]
            status = 0
            for value in items[:self.limits.max_iterations]:
                self.env[node.name] = value
                after = self._round(node.body, io, status)
                if after is None:
                    break
                status = after
            return status
        if isinstance(node, Case):
            subject = self._string(node.subject)
            for patterns, body in node.arms:
                if any(fnmatchcase(subject, self._string(p)) for p in patterns):
                    return self._script(body, io) if body else 0
            return 0
        if isinstance(node, Group):
            if not node.subshell:
                return self._script(node.body, io)
            saved = (self.cwd, dict(self.env))
            try:
                return self._script(node.body, io)
            except ShellExit as e:
                return e.status
            finally:
                self.cwd, self.env = saved
        raise TypeError(node)

    def _spend_command(self) -> None:
        self._commands += 1
        if self._commands > self.limits.max_commands:
            raise _CommandBudget()

    # -- expansion ---------------------------------------------------------------

    def variable(self, name: str) -> str | None:
        """The value of C{name} (special parameters included), C{None} if unset."""
        if name == "?":
            return str(self.status)
        if name == "$":
            return str(self.pid)
        if name == "#":
            return str(len(self.args))
        if name == "0":
            return "-sh"
        if name.isdigit():
            n = int(name)
            return self.args[n - 1] if n <= len(self.args) else None
        if name in ("@", "*"):
            return " ".join(self.args)
        if name == "!":
            return ""
        if name == "-":
            return "i"
        if name == "RANDOM":
            return str(self.random.randrange(32768))
        return self.env.get(name)

    def set_variable(self, name: str, value: str) -> bool:
        if name in self.readonly:
            return False
        self.env[name] = value
        return True

    def _substitute(self, script: str) -> str:
        """The output of C{$(script)}, without trailing newlines."""
        if self._depth >= self.limits.max_depth:
            self._terminal.write(b"-sh: can't fork: Resource temporarily unavailable\n")
            return ""
        captured = Sink(self.limits.max_output)
        self._depth += 1
        try:
            self._run_text(script, Io(None, captured, self._terminal))
        except ShellExit as e:
            self.status = e.status
        finally:
            self._depth -= 1
        return bytes(captured.data).decode("utf-8", "surrogateescape").rstrip("\n")

    def _arith(self, text: str) -> str:
        expression = self._string(template(text))

        def get(name: str) -> str:
            return self.variable(name) or ""

        try:
            return str(evaluate(expression, get, lambda n, v: self.set_variable(n, v) and None))
        except ArithError as e:
            self._terminal.write(f"-sh: {e}\n".encode())
            raise _Abort() from None

    def _param(self, part: Part) -> str:
        name, op = part.text, part.op
        value = self.variable(name)
        if op == "":
            return value or ""
        if op == "#" and part.arg is None:
            return str(len(value or ""))
        unset = value is None or (op.startswith(":") and value == "")
        arg = self._string(part.arg) if part.arg is not None else ""
        if op in (":-", "-"):
            return arg if unset else value or ""
        if op in (":=", "="):
            if unset:
                self.set_variable(name, arg)
                return arg
            return value or ""
        if op in (":+", "+"):
            return "" if unset else arg
        if op in (":?", "?"):
            if unset:
                self._terminal.write(f"-sh: {name}: {arg or 'parameter not set'}\n".encode())
                raise _Abort()
            return value or ""
        text = value or ""
        if op in ("#", "##"):
            cuts = range(len(text) + 1) if op == "#" else range(len(text), -1, -1)
            for k in cuts:
                if fnmatchcase(text[:k], arg):
                    return text[k:]
            return text
        cuts = range(len(text), -1, -1) if op == "%" else range(len(text) + 1)
        for k in cuts:
            if fnmatchcase(text[k:], arg):
                return text[:k]
        return text

    def _segments(self, word: Word) -> list[tuple[str, bool]]:
        """(text, splittable) pieces of C{word} after substitution."""
        out: list[tuple[str, bool]] = []
        for part in word.parts:
            if part.kind == "lit":
                out.append((part.text, False))
                continue
            if part.kind == "var":
                value = self._param(part)
            elif part.kind == "cmd":
                value = self._substitute(part.text)
            else:
                value = self._arith(part.text)
            out.append((value, not part.quoted))
        return out

    def _string(self, word: Word | None) -> str:
        """C{word} expanded to one string, unsplit (assignments, here-documents)."""
        return "".join(text for text, _ in self._segments(word)) if word is not None else ""

    def _fields(self, word: Word) -> list[str]:
        """The fields C{word} becomes: substituted, split on blanks, globbed."""
        pattern = word.pattern
        if pattern is not None:
            matches = self._glob(pattern)
            if matches:
                return matches
        fields: list[str] = []
        current, real = "", False
        for (value, splittable), part in zip(self._segments(word), word.parts):
            if not splittable:
                current += value
                real = real or part.quoted or bool(value)
                continue
            pieces = value.split()
            if value[:1].isspace() and real:
                fields.append(current)
                current, real = "", False
            for k, piece in enumerate(pieces):
                if k:
                    fields.append(current)
                    current = ""
                current += piece
                real = True
            if pieces and value[-1].isspace():
                fields.append(current)
                current, real = "", False
        if real:
            fields.append(current)
        return fields

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

    # -- simple commands ---------------------------------------------------------

    def _resolve(self, argv: list[str]) -> tuple[Handler, list[str], bool]:
        """The function to run, its argv, and whether the command exists."""
        name = argv[0]
        if "/" not in name:
            if name in BUILTINS:
                return BUILTINS[name], argv, True
            path = self.which(name)
            if path is None:
                return not_found, argv, False
        else:
            path = self.path(name)
        node = self.fs.lookup(path)
        if node is None:
            return not_found, argv, False
        if node.kind == DIR:
            return denied, argv, True
        if node.program and node.mode & 0o111:
            return dispatch(node.program, argv)
        return run_file, argv, True

    def _command(self, command: Command, io: Io) -> int:
        self._spend_command()
        argv: list[str] = []
        assignments: list[tuple[str, str]] = []
        try:
            for word in command.words:
                name = word.assignment if not argv else None
                if name is not None:
                    assignments.append((name, self._string(word)[len(name) + 1:]))
                else:
                    argv.extend(self._fields(word))
            if argv and argv[0] in self.aliases and command.words[0].literal == argv[0]:
                argv[:1] = self.aliases[argv[0]].split()
        except _Abort:
            self._record("command.input", command.source)
            return 1
        handler, argv, known = self._resolve(argv) if argv else (None, argv, True)
        self._record("command.input" if known else "command.failed", command.source)
        redirected = self._redirect(command.redirects, io)
        if redirected is None:
            return 1
        io, files = redirected
        try:
            if handler is None:
                status = self.status if any(p.kind == "cmd" for w in command.words
                                            for p in w.parts) else 0
                for name, value in assignments:
                    if not self.set_variable(name, value):
                        io.err(f"-sh: {name}: is read only\n")
                        status = 2
            elif argv[0] in BUILTINS and "/" not in argv[0]:
                status = handler(self, io, argv)
            else:
                status = self._child(handler, io, argv)
        finally:
            self._flush(files, io)
        return status

    def _child(self, handler: Handler, io: Io, argv: list[str]) -> int:
        """Run a program as the process a real shell would fork for it."""
        pid, self._stage_pid = self._stage_pid or self.spawn(), None
        owned = pid not in self.running  # a pipeline's stages stay until it ends
        saved = self.current_pid
        self.current_pid = pid
        self.running[pid] = (1440, "R", " ".join(argv)[:200])
        try:
            return handler(self, io, argv)
        finally:
            self.current_pid = saved
            if owned:
                self.running.pop(pid, None)

    def _flush(self, files: list[Sink], io: Io) -> None:
        for sink in files:
            try:
                self.fs.write(sink.path or "", bytes(sink.data), append=True)
            except FsError as e:
                io.err(f"-sh: write error: {e}\n")
                self.status = 1

    def _redirect(self, redirects: tuple[Redirect, ...], io: Io
                  ) -> tuple[Io, list[Sink]] | None:
        """Apply redirections in order, as ash does; C{None} after printing why one failed."""
        if not redirects:
            return io, []
        streams = {1: io.stdout, 2: io.stderr}
        paths = {1: io.stdout_path, 2: None}
        source = io.source
        files: list[Sink] = []
        try:
            for r in redirects:
                if r.op == "<<":
                    body = r.body if r.quoted else Word(r.body.parts)
                    text = "".join(p.text for p in body.parts) if r.quoted else self._string(body)
                    source = Reader(as_bytes(text))
                    continue
                fields = self._fields(r.target)
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
                        source = Reader(self.fs.read(self.path(target), self.limits.max_output))
                    except FsError as e:
                        io.err(f"-sh: can't open {target}: {_open_error(e)}\n")
                        return None
                else:
                    path = self.path(target)
                    try:
                        self.fs.write(path, b"", append=r.op == ">>")
                    except FsError as e:
                        io.err(f"-sh: can't create {target}: {_create_error(e)}\n")
                        return None
                    sink = Sink(self.limits.max_bytes + 1, self.fs.resolve(path))
                    files.append(sink)
                    streams[r.fd] = sink
                    paths[r.fd] = sink.path
        except _Abort:
            return None
        tty = io.tty and streams[1] is io.stdout
        return Io(source, streams[1], streams[2], paths[1], tty), files


def _open_error(e: FsError) -> str:
    """ash words a failed C{< file} in its own short form."""
    return {"No such file or directory": "no such file", "Is a directory": "Is a directory",
            "Not a directory": "no such file"}.get(str(e), str(e))


def _create_error(e: FsError) -> str:
    """ash words a failed C{> file} whose directory is missing its own way."""
    return "nonexistent directory" if str(e) == "No such file or directory" else str(e)


_KEYWORDS = frozenset({"!", "case", "do", "done", "elif", "else", "esac", "fi", "for", "if",
                       "in", "then", "until", "while", "{", "}"})
