"""C{/proc/self} and C{/proc/PID}: what the device's processes look like.

Loaders read C{/proc/self/exe} to copy BusyBox, C{/proc/N/cmdline} to find
and kill rival bots, and list C{/proc} to count processes.  The entries
follow the shell's process table, so a process C{kill} ended is gone here
too, and C{self} is whichever command is reading.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from bbs.shell.fs import DIR, FILE, LINK, Node

if TYPE_CHECKING:
    from bbs.shell.applets.program import Shell

_ENTRIES = ("cmdline", "comm", "cwd", "environ", "exe", "fd", "stat", "status")


class Proc:
    """The L{bbs.shell.fs.Dynamic} entries of one shell's C{/proc}."""

    def __init__(self, shell: Shell) -> None:
        self.shell = shell

    def _table(self) -> dict[int, tuple[int, str, str]]:
        return {**self.shell.processes, **self.shell.running}

    def names(self, path: str) -> list[str]:
        table = self._table()
        if path == "/proc":
            return [str(pid) for pid in table] + ["self", "uptime"]
        parts = path.split("/")[2:]
        if not parts[0].isdigit() or int(parts[0]) not in table:
            return []
        if len(parts) == 1:
            return list(_ENTRIES)
        if parts[1:] == ["fd"]:
            return [] if table[int(parts[0])][2].startswith("[") else ["0", "1", "2"]
        return []

    def node(self, path: str) -> Node | None:
        sh = self.shell
        parts = path.split("/")[2:]
        now = sh.now()
        if parts == ["self"]:
            return Node(LINK, 0o777, now, target=str(sh.current_pid))
        if parts == ["uptime"]:
            up = now - sh.boot
            return Node(FILE, 0o444, now, data=f"{up:.2f} {up * 0.93:.2f}\n".encode())
        if not parts[0].isdigit():
            return None
        pid = int(parts[0])
        process = self._table().get(pid)
        if process is None:
            return None
        vsz, state, command = process
        kernel = command.startswith("[")
        argv = [] if kernel else command.split()
        if len(parts) == 1:
            return Node(DIR, 0o555, now)
        if len(parts) == 3 and parts[1] == "fd" and parts[2] in ("0", "1", "2") and not kernel:
            return Node(LINK, 0o700, now, target="/dev/pts/0")
        if len(parts) != 2:
            return None
        name = parts[1]
        if name == "exe":
            return None if kernel else Node(LINK, 0o777, now, target=_program(sh, argv[0]))
        if name == "cwd":
            return Node(LINK, 0o777, now, target=sh.cwd if pid in sh.running or pid == sh.pid
                        else "/")
        if name == "fd":
            return Node(DIR, 0o500, now)
        comm = command.strip("[]").split("/")[0] if kernel else argv[0].split("/")[-1]
        comm = comm.lstrip("-")[:15]
        text = {
            "cmdline": "".join(a + "\0" for a in argv),
            "comm": comm + "\n",
            "environ": "" if kernel else "HOME=/\0TERM=vt102\0PATH=/bin:/sbin:/usr/bin:/usr/sbin\0",
            "stat": f"{pid} ({comm}) {state[0]} 1 {pid} {pid} 0 -1 4194560 0 0 0 0 0 0 0 0 20 0 "
                    f"1 0 {int(sh.sensor.uptime) % 100000} {vsz * 1024} {vsz // 4}\n",
            "status": f"Name:\t{comm}\nState:\t{state[0]} ({_STATES.get(state[0], 'sleeping')})\n"
                      f"Tgid:\t{pid}\nPid:\t{pid}\nPPid:\t{0 if pid == 1 else 1}\n"
                      "Uid:\t0\t0\t0\t0\nGid:\t0\t0\t0\t0\n"
                      + ("" if kernel else f"VmSize:\t{vsz:8d} kB\n"),
        }.get(name)
        return None if text is None else Node(FILE, 0o444, now, data=text.encode())


_STATES = {"R": "running", "S": "sleeping", "D": "disk sleep", "Z": "zombie"}


def _program(sh: Shell, name: str) -> str:
    """The file a process runs: applets and ash are BusyBox itself."""
    path = name if "/" in name else sh.which(name.lstrip("-")) or "/bin/busybox"
    node = sh.fs.lookup(path)
    if node is not None and node.program == "busybox":
        return "/bin/busybox"
    return path
