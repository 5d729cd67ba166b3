"""The applets bots run to size up a device: C{which}, C{mount},
C{ifconfig}, C{netstat}, C{top}.  Their figures come from the shell's
device (processes, mounts, memory) and sensor (MAC, addresses), so what one
applet says agrees with what the others and C{/proc} say.
"""

from __future__ import annotations

import posixpath
from typing import TYPE_CHECKING

from bbs.shell.applets import Io, applet, usage, _parsed

if TYPE_CHECKING:
    from bbs.shell.applets import Shell


@applet("/usr/bin", "which [-a] COMMAND...\n\nLocate COMMAND\n\n\t-a\tShow all matches")
def which(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "a")
    if parsed is None:
        return 1
    opts, names = parsed
    if not names:
        return usage(sh, io, "which")
    status = 0
    for name in names:
        found = []
        candidates = [name] if "/" in name else [
            posixpath.join(d or ".", name) for d in sh.env.get("PATH", "").split(":")[:32]]
        for path in candidates:
            node = sh.fs.lookup(sh.path(path))
            if node is not None and node.kind == "file" and node.mode & 0o111:
                found.append(path)
                if "a" not in opts:
                    break
        if not found:
            status = 1
        io.out("".join(p + "\n" for p in found))
    return status


@applet("/bin", "mount [OPTIONS] [-o OPT] DEVICE NODE\n\nMount a filesystem. Filesystem "
        "autodetection requires /proc.")
def mount(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "arwnfvt:o:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if not operands:
        for m in sh.fs.image.mounts:
            if m.device != "rootfs":
                io.out(f"{m.device} on {m.point} type {m.fstype} ({m.options})\n")
        return 0
    point = operands[-1]
    if "remount" in ",".join(opts.get("o", [])) and sh.fs.mount(sh.path(point)).fstype == "squashfs":
        io.err(f"mount: mounting /dev/root on {point} failed: Read-only file system\n")
        return 255
    if len(operands) == 1:
        io.err(f"mount: can't find {point} in /etc/fstab\n")
        return 255
    io.err(f"mount: mounting {operands[0]} on {point} failed: No such device\n")
    return 255


def _interface(name: str, link: str, inet: str, mask: str, flags: str, mtu: int,
               packets: int, octets: int, bcast: str = "") -> str:
    def human(n: int) -> str:
        for unit, size in (("GiB", 1 << 30), ("MiB", 1 << 20), ("KiB", 1 << 10)):
            if n >= size:
                return f"{n / size:.1f} {unit}"
        return f"{n}.0 B"

    bcast = f"  Bcast:{bcast}" if bcast else ""
    return (f"{name:<10}{link}  \n"
            f"          inet addr:{inet}{bcast}  Mask:{mask}\n"
            f"          {flags}  MTU:{mtu}  Metric:1\n"
            f"          RX packets:{packets} errors:0 dropped:0 overruns:0 frame:0\n"
            f"          TX packets:{packets * 4 // 5} errors:0 dropped:0 overruns:0 carrier:0\n"
            f"          collisions:0 txqueuelen:1000 \n"
            f"          RX bytes:{octets} ({human(octets)})  "
            f"TX bytes:{octets * 3 // 5} ({human(octets * 3 // 5)})\n\n")


@applet("/sbin", "ifconfig [-a] [IFACE] ...")
def ifconfig(sh: Shell, io: Io, argv: list[str]) -> int:
    s = sh.sensor
    up = int(sh.now() - sh.boot)
    blocks = {
        "eth0": _interface("eth0", f"Link encap:Ethernet  HWaddr {s.mac}", s.address,
                           "255.255.255.0", "UP BROADCAST RUNNING MULTICAST", 1500, up * 3,
                           up * 2100, s.address.rsplit(".", 1)[0] + ".255"),
        "lo": _interface("lo", "Link encap:Local Loopback", "127.0.0.1", "255.0.0.0",
                         "UP LOOPBACK RUNNING", 65536, up // 40, up * 9),
    }
    names = [a for a in argv[1:] if not a.startswith("-")]
    if not names:
        io.out("".join(blocks.values()))
        return 0
    if len(names) > 1:
        io.err("ifconfig: SIOCSIFADDR: Operation not permitted\n")
        return 1
    if names[0] not in blocks:
        io.err(f"ifconfig: {names[0]}: error fetching interface information: Device not found\n")
        return 1
    io.out(blocks[names[0]])
    return 0


@applet("/bin", "netstat [-ral] [-tuwx] [-enWp]")
def netstat(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = _parsed(sh, io, argv, "laentuwxrWp")
    if parsed is None:
        return 1
    opts = parsed[0]
    if "r" in opts:
        gateway = sh.sensor.address.rsplit(".", 1)[0]
        io.out("Kernel IP routing table\n"
               "Destination     Gateway         Genmask         Flags   MSS Window  irtt Iface\n"
               f"0.0.0.0         {gateway + '.1':<15} 0.0.0.0         UG        0 0          0 eth0\n"
               f"{gateway + '.0':<15} 0.0.0.0         255.255.255.0   U         0 0          0 eth0\n")
        return 0
    listening = "a" in opts or "l" in opts
    numeric = "n" in opts
    kinds = {k for k in "tuwx" if k in opts} or set("tuwx")
    title = ("(only servers)" if "l" in opts else "(servers and established)" if "a" in opts
             else "(w/o servers)")
    if kinds & set("tuw"):
        io.out(f"Active Internet connections {title}\n"
               "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n")
        if listening and "t" in kinds:
            local = "0.0.0.0:23" if numeric else "0.0.0.0:telnet"
            io.out(f"tcp        0      0 {local:<23} {'0.0.0.0:*':<23} LISTEN      \n")
    if "x" in kinds:
        io.out(f"Active UNIX domain sockets {title}\n"
               "Proto RefCnt Flags       Type       State         I-Node Path\n")
        if listening:
            io.out("unix  2      [ ]         DGRAM                       "
                   f"{sh.sensor.pids[8] * 3:>6} /dev/log\n")
    return 0


@applet("/usr/bin", "top [-b] [-n COUNT] [-d SECONDS]")
def top(sh: Shell, io: Io, argv: list[str]) -> int:
    """One screen, then out: a bot's session is no one to watch it refresh."""
    parsed = _parsed(sh, io, argv, "bn:d:mHs")
    if parsed is None:
        return 1
    total = sh.arch.mem_kb
    free = total * 38 // 100
    buffers, cached = total * 4 // 100, total * 17 // 100
    table = {**sh.processes, **sh.running}
    io.out(f"Mem: {total - free}K used, {free}K free, 0K shrd, {buffers}K buff, {cached}K cached\n"
           "CPU:   0% usr   1% sys   0% nic  98% idle   0% io   0% irq   0% sirq\n"
           f"Load average: 0.08 0.03 0.05 1/{len(table) + 40} {sh._last_pid}\n"
           "  PID  PPID USER     STAT   VSZ %VSZ %CPU COMMAND\n")
    for pid, (vsz, state, command) in sorted(table.items(), key=lambda kv: -kv[1][0]):
        ppid = 0 if pid == 1 else sh.pid if pid in sh.running else 1 if pid > 2 else 0
        share = vsz * 100 // total
        cpu = 1 if pid in sh.running and command.startswith("top") else 0
        io.out(f"{pid:5d} {ppid:5d} root     {state:<4} {vsz:5d} {share:3d}% {cpu:3d}% {command}\n")
    return 0
