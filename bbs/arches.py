"""The processors the fake shell can claim to have, by name.

The option parser checks C{--shell-arch} against these without importing the
shell; what each one reports (uname, /proc/cpuinfo, ELF headers) is
L{bbs.shell.processors.ARCHES}, which holds exactly these names, in this order.
"""

from __future__ import annotations

ARCH_NAMES = ("armv7l", "armv5l", "aarch64", "mips", "mipsel", "i686", "x86_64", "powerpc")
