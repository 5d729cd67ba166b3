"""What makes one sensor's device its own: hostname, firmware build stamp,
process ids, uptime, password hash and MAC address.

Every value follows from one seed the caller passes (derived from its data
directory), so two sensors never share a fingerprint a scanner could list,
and one sensor tells every bot, every time, the same story.
"""

from __future__ import annotations

import hashlib
import random
import time

import attrs

VERSION = "1.35.0"
# BusyBox 1.35.0 came out on 2021-12-26; firmware built with it afterwards.
_FIRST_BUILD = 1_641_000_000.0  # 2022-01-01
_BUILD_SPAN = 2 * 365 * 86400
_HOSTNAMES = ("router", "OpenWrt", "LocalHost", "dvr", "IPCam", "DVRDVS", "hi3518", "gateway",
              "ZXHN", "RT-N12", "AP", "nvr")
_B64 = "./0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
# What the device runs besides the bot's shell: (name, vsz, state), kernel threads first.
_DAEMONS = (("init", 1444, "S"), ("[kthreadd]", 0, "SW"), ("[ksoftirqd/0]", 0, "SW"),
            ("[kworker/0:0H]", 0, "SW<"), ("[rcu_preempt]", 0, "SW"), ("[khelper]", 0, "SW<"),
            ("[kswapd0]", 0, "SW"), ("[mtdblock2]", 0, "SW"), ("/sbin/syslogd -n", 1440, "S"),
            ("/sbin/klogd -n", 1440, "S"), ("/usr/sbin/telnetd -F", 1440, "S"),
            ("/mnt/app/main", 24316, "S"))


@attrs.frozen
class Sensor:
    hostname: str
    build: float  # when the firmware was built (UTC epoch seconds)
    pids: tuple[int, ...]  # of L{_DAEMONS}, in order
    shell_pid: int
    uptime: float  # seconds the device had been up when the bot arrived
    root_hash: str  # root's entry in /etc/shadow
    mac: str
    address: str  # eth0's, on the LAN behind the router that forwards telnet to it

    @classmethod
    def derive(cls, seed: str, hostname: str | None = None) -> "Sensor":
        digest = hashlib.sha256(f"hfnjbbs sensor {seed}".encode("utf-8", "surrogateescape"))
        rng = random.Random(digest.digest())
        build = _FIRST_BUILD + rng.randrange(_BUILD_SPAN)
        pids = [1, 2, 3, 5, 7, 10]
        pid = 40 + rng.randrange(20)
        for _ in _DAEMONS[6:]:
            pids.append(pid)
            pid += 1 + rng.randrange(60 if pid < 200 else 150)
        salt = "".join(rng.choice(_B64) for _ in range(8))
        hashed = "".join(rng.choice(_B64) for _ in range(22))
        mac = "00:" + ":".join(f"{rng.randrange(256):02X}" for _ in range(5))
        address = f"192.168.{rng.choice((0, 1, 1, 1, 2, 10))}.{rng.randrange(2, 250)}"
        return cls(hostname=hostname or rng.choice(_HOSTNAMES), build=float(build),
                   pids=tuple(pids), shell_pid=pid + 300 + rng.randrange(1500),
                   uptime=float(rng.randrange(3600, 40 * 86400)),
                   root_hash=f"$1${salt}${hashed}", mac=mac, address=address)

    @property
    def stamp(self) -> str:
        """The build stamp BusyBox's banner quotes."""
        return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(self.build))

    @property
    def busybox(self) -> str:
        return f"BusyBox v{VERSION} ({self.stamp})"

    @property
    def kernel_build(self) -> str:
        """The kernel's C{uname -v}, built the same day as the firmware."""
        return time.strftime("#1 SMP PREEMPT %a %b %e %H:%M:%S UTC %Y",
                             time.gmtime(self.build - 3600)).replace("  ", " ")

    def processes(self) -> dict[int, tuple[int, str, str]]:
        """pid -> (vsz, state, command) of what was running when the bot arrived."""
        return {pid: (vsz, state, name) for pid, (name, vsz, state) in zip(self.pids, _DAEMONS)}
