"""The system applets: uname, id, ps, kill, df, mount, ifconfig, top... and
that they tell one story."""

from __future__ import annotations

from tests.shell.run import out, shell


def test_system_applets() -> None:
    sh = shell(hostname="cam01")
    assert out(sh, "uname -a") == \
        f"Linux cam01 3.10.14 {sh.sensor.kernel_build} armv7l GNU/Linux\n"
    assert sh.sensor.kernel_build in out(sh, "cat /proc/version")
    assert out(sh, "uname -m; uname -r; uname") == "armv7l\n3.10.14\nLinux\n"
    assert out(sh, "id; whoami; hostname; nproc") == \
        "uid=0(root) gid=0(root) groups=0(root)\nroot\ncam01\n2\n"
    result = sh.run("sleep 5; echo done")
    assert result.output == "done\n" and result.delay == 5.0
    assert out(sh, "sleep forever") == "sleep: invalid number 'forever'\n"
    assert out(sh, "date") == "Fri Nov 27 11:00:00 UTC 2026\n"
    assert out(sh, "df").splitlines()[1].split() == \
        ["/dev/root", "6016", "6016", "0", "100%", "/"]
    assert out(sh, "free").splitlines()[1].split()[:2] == ["Mem:", "61292"]
    ps = out(sh, "ps")
    assert "-sh" in ps and ps.splitlines()[0] == "PID   USER     COMMAND"
    main = next(line.split()[0] for line in ps.splitlines() if line.endswith("/mnt/app/main"))
    assert out(sh, f"kill -9 {main}; ps | grep -c app/mai[n]") == "0\n"
    assert out(sh, "kill 4242") == "kill: can't kill pid 4242: No such process\n"
    assert out(sh, "ls --bogus").startswith("ls: unrecognized option '--bogus'\n")
    assert out(sh, "ls -Z").startswith("ls: invalid option -- 'Z'\nBusyBox v1.35.0 (")


def test_ps_shows_the_whole_pipeline() -> None:
    sh = shell()
    lines = out(sh, "ps | grep x").splitlines()
    assert len(lines) == 1 and lines[0].endswith(" root     grep x")
    assert out(sh, "ps | grep -c '[{]ps} -sh'") == "1\n"
    assert out(sh, "ps | grep -c grep") == "1\n"  # the pipeline ended: no grep left over


def test_system_applets_agree_with_each_other() -> None:
    sh = shell(sensor="x")
    mount = out(sh, "mount")
    assert "/dev/root on / type squashfs (ro,relatime)\n" in mount
    assert "tmpfs on /tmp type tmpfs (rw,relatime)\n" in mount
    ifconfig = out(sh, "ifconfig eth0")
    assert f"HWaddr {sh.sensor.mac}" in ifconfig and f"inet addr:{sh.sensor.address}" in ifconfig
    assert out(sh, "ifconfig wlan9") == \
        "ifconfig: wlan9: error fetching interface information: Device not found\n"
    assert out(sh, "netstat -an | head -n 3") == (
        "Active Internet connections (servers and established)\n"
        "Proto Recv-Q Send-Q Local Address           Foreign Address         State       \n"
        "tcp        0      0 0.0.0.0:23              0.0.0.0:*               LISTEN      \n")
    top = out(sh, "top -bn1").splitlines()
    assert top[0].startswith("Mem: ") and top[3].split() == [
        "PID", "PPID", "USER", "STAT", "VSZ", "%VSZ", "%CPU", "COMMAND"]
    assert any(line.endswith(" top -bn1") for line in top)
    help_text = out(sh, "help")
    assert help_text.startswith("Built-in commands:\n------------------\n\t. : [ [[ alias bg ")
    assert " ulimit umask unalias unset wait " in help_text.replace("\n\t", " ")
    listing = out(sh, "busybox")
    assert listing.startswith(f"{sh.sensor.busybox} multi-call binary.\n")
    assert "\twget, which, whoami\n" in listing or "which, whoami" in listing
