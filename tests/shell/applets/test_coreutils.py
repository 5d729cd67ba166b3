"""The small applets: ln, readlink, basename, seq, tee, checksums, pidof, killall."""

from __future__ import annotations

from tests.shell.run import out, shell


def test_small_applets() -> None:
    sh = shell()
    telnetd = out(sh, "pidof telnetd").strip()
    assert out(sh, "cat /var/run/telnetd.pid").strip() == telnetd
    assert out(sh, "killall -9 telnetd; pidof telnetd; echo $?") == "1\n"
    assert out(sh, "killall -9 nosuch; echo $?") == "killall: nosuch: no process killed\n1\n"
    assert out(sh, "cd /tmp; ln -s /bin/busybox bb; ./bb echo via; readlink bb; ls -l bb"
               ).startswith("bb: applet not found\n/bin/busybox\nlrwxrwxrwx")
    assert out(sh, "ln -s /bin/busybox /tmp/echo; /tmp/echo via") == "via\n"
    assert out(sh, "ln -s x /bin/y") == "ln: /bin/y: Read-only file system\n"
    assert out(sh, "cp /bin/busybox /tmp/kami; /tmp/kami echo x") == "kami: applet not found\n"
    assert out(sh, "basename /tmp/a.sh .sh; dirname /tmp/a.sh; seq 2 4 | tee /tmp/n | wc -l") == \
        "a\n/tmp\n3\n"
    assert out(sh, "cat /tmp/n") == "2\n3\n4\n"
    assert out(sh, "echo -n abc | md5sum") == "900150983cd24fb0d6963f7d28e17f72  -\n"
    assert out(sh, "sha256sum /nope") == \
        "sha256sum: can't open '/nope': No such file or directory\n"
