"""/proc as a process sees it: self, its pid's directory and the others'."""

from __future__ import annotations

from tests.shell.run import out, shell


def test_proc_self_and_pid_directories() -> None:
    sh = shell(arch="mips")
    busybox = sh.fs.read("/bin/busybox", 1 << 22)
    assert sh.run("cat /proc/self/exe").data == busybox
    assert out(sh, "cat /proc/self/cmdline") == "cat\0/proc/self/cmdline\0"
    assert out(sh, "head -n 1 /proc/self/status") == "Name:\thead\n"
    assert out(sh, "ls -l /proc/self/exe").split()[-3:] == ["/proc/self/exe", "->",
                                                             "/bin/busybox"]
    pids = out(sh, "ls /proc").split()
    assert "self" in pids and "1" in pids and str(sh.pid) in pids
    assert out(sh, f"cat /proc/{sh.pid}/cmdline") == "-sh\0"
    telnetd = out(sh, "cat /var/run/telnetd.pid").strip()
    assert out(sh, f"cat /proc/{telnetd}/cmdline") == "/usr/sbin/telnetd\0-F\0"
    assert out(sh, f"kill {telnetd}; cat /proc/{telnetd}/cmdline") == \
        f"cat: can't open '/proc/{telnetd}/cmdline': No such file or directory\n"
    assert out(sh, "for p in /proc/[0-9]*; do cat $p/cmdline; done | grep -c main") == "1\n"
