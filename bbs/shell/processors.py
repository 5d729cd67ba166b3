"""What each kind of device the fake shell can be reports about its
processor: C{uname -m}, C{/proc/cpuinfo}, and the ELF header of every binary
on it, all agreeing, since bots pick which binary to drop by reading them.
L{ARCHES} holds exactly the names of L{bbs.arches.ARCH_NAMES}, in order."""

from __future__ import annotations

import struct
from collections.abc import Mapping

import attrs


@attrs.frozen
class Arch:
    """What one kind of device reports about its processor."""

    name: str
    uname: str
    bits: int
    little: bool
    machine: int
    flags: int
    base: int
    kernel: str
    mem_kb: int
    cpus: int
    cpuinfo: str

    def elf_header(self, entry: int, shoff: int = 0, phnum: int = 0) -> bytes:
        """The ELF file header a static executable for this processor starts with."""
        order = "<" if self.little else ">"
        ident = b"\x7fELF" + bytes((1 if self.bits == 32 else 2, 1 if self.little else 2, 1, 0))
        ident += bytes(8)
        if self.bits == 32:
            return ident + struct.pack(order + "HHIIIIIHHHHHH", 2, self.machine, 1, entry,
                                       52, shoff, self.flags, 52, 32, phnum, 40, 0, 0)
        return ident + struct.pack(order + "HHIQQQIHHHHHH", 2, self.machine, 1, entry,
                                   64, shoff, self.flags, 64, 56, phnum, 64, 0, 0)

    def executable(self, strings: bytes, size: int = 2048) -> bytes:
        """A small, well-formed static ELF executable carrying C{strings}."""
        order = "<" if self.little else ">"
        header_size = 52 if self.bits == 32 else 64
        ph_size = 32 if self.bits == 32 else 56
        code = header_size + 3 * ph_size
        body_len = max(size, code + 64 + len(strings))
        data_at = body_len - 32

        def ph(kind: int, offset: int, vaddr: int, filesz: int, memsz: int, flags: int,
               align: int) -> bytes:
            if self.bits == 32:
                return struct.pack(order + "8I", kind, offset, vaddr, vaddr, filesz, memsz,
                                   flags, align)
            return struct.pack(order + "2I6Q", kind, flags, offset, vaddr, vaddr, filesz,
                               memsz, align)

        headers = (
            ph(1, 0, self.base, data_at, data_at, 5, 0x10000)
            + ph(1, data_at, self.base + 0x10000 + data_at, 32, 0x400, 6, 0x10000)
            + ph(0x6474E551, 0, 0, 0, 0, 6, 4)  # PT_GNU_STACK, not executable
        )
        body = bytearray(self.elf_header(self.base + code, 0, 3) + headers)
        body += bytes(64)  # where the entry point's instructions would be
        body += strings
        body += bytes(body_len - len(body))
        return bytes(body)

    def runs(self, data: bytes) -> bool:
        """Whether an ELF file is built for this processor (class, byte order, machine)."""
        if len(data) < 20 or not data.startswith(b"\x7fELF"):
            return False
        little = data[5] == 1
        (machine,) = struct.unpack("<H" if little else ">H", data[18:20])
        return data[4] == (1 if self.bits == 32 else 2) and little == self.little \
            and machine == self.machine


def _arm_cpu(model: str, features: str, arch: str, part: str, rev: int, bogo: str,
             cpus: int, hardware: str, label: str = "model name") -> str:
    named = f"{label}\t: {model}\n" if model else ""
    blocks = [
        f"processor\t: {n}\n{named}BogoMIPS\t: {bogo}\nFeatures\t: {features}\n"
        f"CPU implementer\t: 0x41\nCPU architecture: {arch}\nCPU variant\t: 0x0\n"
        f"CPU part\t: {part}\nCPU revision\t: {rev}\n\n"
        for n in range(cpus)
    ]
    tail = f"Hardware\t: {hardware}\nRevision\t: 0000\nSerial\t\t: 0000000000000000\n"
    return "".join(blocks) + tail if hardware else "".join(blocks)


def _mips_cpu(system: str, machine: str, model: str, bogo: str, ases: str) -> str:
    return (
        f"system type\t\t: {system}\nmachine\t\t\t: {machine}\nprocessor\t\t: 0\n"
        f"cpu model\t\t: {model}\nBogoMIPS\t\t: {bogo}\nwait instruction\t: yes\n"
        "microsecond timers\t: yes\ntlb_entries\t\t: 32\nextra interrupt vector\t: yes\n"
        "hardware watchpoint\t: yes, count: 4, address/irw mask: "
        "[0x0000, 0x0ff8, 0x0ff8, 0x0ff8]\nisa\t\t\t: mips1 mips2 mips32r1 mips32r2\n"
        f"ASEs implemented\t: {ases}\nshadow register sets\t: 1\nkscratch registers\t: 0\n"
        "core\t\t\t: 0\nVCED exceptions\t\t: not available\n"
        "VCEI exceptions\t\t: not available\n\n"
    )


def _x86_cpu(model: str, family: int, number: int, stepping: int, mhz: str, cache: str,
             flags: str, bogo: str, cpus: int, bits: str) -> str:
    return "".join(
        f"processor\t: {n}\nvendor_id\t: GenuineIntel\ncpu family\t: {family}\n"
        f"model\t\t: {number}\nmodel name\t: {model}\nstepping\t: {stepping}\n"
        f"cpu MHz\t\t: {mhz}\ncache size\t: {cache}\nphysical id\t: 0\nsiblings\t: {cpus}\n"
        f"core id\t\t: {n}\ncpu cores\t: {cpus}\nfpu\t\t: yes\nfpu_exception\t: yes\n"
        f"cpuid level\t: 11\nwp\t\t: yes\nflags\t\t: {flags}\nbogomips\t: {bogo}\n"
        f"clflush size\t: 64\ncache_alignment\t: 64\naddress sizes\t: {bits}\n"
        "power management:\n\n"
        for n in range(cpus)
    )


_X86_FLAGS = (
    "fpu vme de pse tsc msr pae mce cx8 apic sep mtrr pge mca cmov pat pse36 clflush dts "
    "acpi mmx fxsr sse sse2 ss ht tm pbe syscall nx lm constant_tsc arch_perfmon pebs bts "
    "nopl nonstop_tsc aperfmperf pni dtes64 monitor ds_cpl vmx est tm2 ssse3 cx16 xtpr pdcm "
    "sse4_1 sse4_2 movbe popcnt tsc_deadline_timer rdrand lahf_lm 3dnowprefetch"
)

ARCHES: Mapping[str, Arch] = {a.name: a for a in (
    Arch("armv7l", "armv7l", 32, True, 40, 0x05000200, 0x00008000, "3.10.14", 61292, 2,
         _arm_cpu("ARMv7 Processor rev 5 (v7l)",
                  "swp half thumb fastmult vfp edsp neon vfpv3 tls vfpv4 idiva idivt "
                  "vfpd32 lpae ", "7", "0xc07", 5, "1196.85", 2, "hi3536")),
    Arch("armv5l", "armv5tejl", 32, True, 40, 0x05000200, 0x00008000, "3.0.8", 29212, 1,
         _arm_cpu("ARM926EJ-S rev 5 (v5l)", "swp half thumb fastmult edsp java ", "5TEJ",
                  "0x926", 5, "218.72", 1, "hi3518", label="Processor")),
    Arch("aarch64", "aarch64", 64, True, 183, 0, 0x00400000, "4.9.118", 1010680, 4,
         _arm_cpu("", "fp asimd evtstrm aes pmull sha1 sha2 crc32 cpuid", "8", "0xd03", 4,
                  "48.00", 4, "")),
    Arch("mips", "mips", 32, False, 8, 0x50001007, 0x00400000, "2.6.31", 28376, 1,
         _mips_cpu("Atheros AR9341 rev 1", "TP-LINK TL-WR841N/ND v8", "MIPS 74Kc V4.12",
                   "266.24", "mips16 dsp dsp2")),
    Arch("mipsel", "mips", 32, True, 8, 0x50001007, 0x00400000, "2.6.36", 60416, 1,
         _mips_cpu("MediaTek MT7620A ver:2 eco:6", "Ralink MT7620a + MT7610e evaluation board",
                   "MIPS 24KEc V5.0", "385.84", "mips16 dsp")),
    Arch("i686", "i686", 32, True, 3, 0, 0x08048000, "3.2.40", 1022544, 2,
         _x86_cpu("Intel(R) Atom(TM) CPU D525   @ 1.80GHz", 6, 28, 10, "1800.000", "512 KB",
                  _X86_FLAGS, "3600.12", 2, "36 bits physical, 48 bits virtual")),
    Arch("x86_64", "x86_64", 64, True, 62, 0, 0x00400000, "4.4.59", 3915824, 4,
         _x86_cpu("Intel(R) Celeron(R) CPU  J1900  @ 1.99GHz", 6, 55, 8, "1999.857",
                  "1024 KB", _X86_FLAGS, "3999.71", 4, "36 bits physical, 48 bits virtual")),
    Arch("powerpc", "ppc", 32, False, 20, 0, 0x10000000, "2.6.35", 255412, 1,
         "processor\t: 0\ncpu\t\t: e500v2\nclock\t\t: 800.000000MHz\n"
         "revision\t: 5.1 (pvr 8021 1051)\nbogomips\t: 100.00\n\ntotal bogomips\t: 100.00\n"
         "timebase\t: 50000000\nplatform\t: P1020 RDB\nmodel\t\t: fsl,P1020RDB\n"
         "Memory\t\t: 256 MB\n"),
)}
