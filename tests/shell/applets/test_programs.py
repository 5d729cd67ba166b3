"""Programs that run programs: BusyBox's dispatch by name and sh running scripts."""

from __future__ import annotations

from tests.shell.run import out, shell


def test_busybox_dispatch() -> None:
    sh = shell()
    assert out(sh, "busybox echo hi; /bin/busybox busybox echo ho") == "hi\nho\n"
    assert out(sh, "busybox XYZ") == "XYZ: applet not found\n"
    listing = out(sh, "busybox")
    assert "Currently defined functions:" in listing and "wget" in listing
    assert "wget\n" in out(sh, "busybox --list")
    # BusyBox picks the applet by the name it runs under, even for a copy.
    assert out(sh, "cp /bin/busybox /tmp/x; /tmp/x ls /tmp") == "x: applet not found\n"
    assert out(sh, "cp /bin/busybox /tmp/ls; /tmp/ls /tmp") == "ls  x\n"


def test_scripts_run_through_the_shell() -> None:
    sh = shell()
    sh.run("cd /tmp")
    sh.run("echo '#!/bin/sh' > s.sh; echo 'wget http://203.0.113.1/a' >> s.sh; "
           "echo 'exit 3' >> s.sh; echo 'echo never' >> s.sh")
    result = sh.run("sh s.sh; echo $?")
    assert result.output.endswith("3\n") and "never" not in result.output
    assert any(e.url == "http://203.0.113.1/a" for e in result.events)
    assert not result.exit  # exit ended the script, not the session
    assert out(sh, "chmod +x s.sh; ./s.sh >/dev/null 2>&1; echo $?") == "3\n"
    assert out(sh, "sh -c 'echo inner; exit 1'; echo outer") == "inner\nouter\n"
    assert out(sh, "./nope") == "-sh: ./nope: not found\n"
    assert out(sh, "echo x > t; ./t") == "-sh: ./t: Permission denied\n"
    # A script that runs itself stops at the nesting limit instead of recursing.
    sh.run("echo 'sh /tmp/r.sh' > r.sh")
    assert "can't fork" in out(sh, "sh r.sh")
