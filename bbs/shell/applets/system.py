"""The applets about the device and its processes: C{uname}, C{hostname},
C{id}, C{whoami}, C{nproc}, C{free}, C{df}, C{uptime}, C{date}, C{ps},
C{kill}, C{true}, C{false}, C{sleep}, and those bots run to size up a
device: C{which}, C{mount}, C{ifconfig}, C{netstat}, C{top}.  Their figures
come from the shell's device (processes, mounts, memory) and sensor (MAC,
addresses), so what one applet says agrees with what the others and
C{/proc} say.
"""

from __future__ import annotations

import posixpath
import re
import time


from bbs.shell.applets.files import human_size
from bbs.shell.applets.program import Io, Shell, ShellExit
from bbs.shell.applets.registry import applet, builtin, decimal, options_or_usage, read_input, usage



@applet("/bin", "uname [-amnrspvio]")
def uname(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "asnrvmpio")
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
    parsed = options_or_usage(sh, io, argv, "sF:")
    if parsed is None:
        return 1
    opts, operands = parsed
    if "F" in opts:
        data = read_input(sh, io, opts["F"][-1], "hostname")
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
    parsed = options_or_usage(sh, io, argv, "ugGn")
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
    parsed = options_or_usage(sh, io, argv, "bkmg")
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
    parsed = options_or_usage(sh, io, argv, "kh")
    if parsed is None:
        return 1
    human = "h" in parsed[0]
    io.out(f"Filesystem           {'Size' if human else '1K-blocks':>9}      Used Available "
           "Use% Mounted on\n")
    for m in sh.fs.image.mounts:
        if m.blocks:
            pct = -(-m.used * 100 // m.blocks)
            sizes = [m.blocks, m.used, m.blocks - m.used]
            cells = " ".join(f"{human_size(k * 1024) if human else k:>9}" for k in sizes)
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
        pid = decimal(arg)
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


@applet("/usr/bin", "which [-a] COMMAND...\n\nLocate COMMAND\n\n\t-a\tShow all matches")
def which(sh: Shell, io: Io, argv: list[str]) -> int:
    parsed = options_or_usage(sh, io, argv, "a")
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
    parsed = options_or_usage(sh, io, argv, "arwnfvt:o:")
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
    parsed = options_or_usage(sh, io, argv, "laentuwxrWp")
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
    parsed = options_or_usage(sh, io, argv, "bn:d:mHs")
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
