"""The file applets: ls, mkdir, rm, cp, mv, chmod and their refusals."""

from __future__ import annotations

from tests.shell.run import out, shell


def test_files_and_directories() -> None:
    sh = shell()
    sh.run("cd /tmp")
    assert out(sh, "mkdir -p a/b/c; touch a/b/c/f; ls a a/b/c") == "a:\nb\n\na/b/c:\nf\n"
    assert out(sh, "rm a") == "rm: 'a' is a directory\n"
    assert out(sh, "rm -rf a; ls") == ""
    assert out(sh, "echo 1 > x; cp x y; mv y z; ls; cat z") == "x  z\n1\n"
    assert out(sh, "mv z /tmp/x; cat x; ls") == "1\nx\n"
    assert out(sh, "mkdir d; mv x d; ls d; rmdir d") == "x\nrmdir: 'd': Directory not empty\n"
    assert out(sh, "chmod 4755 d/x; ls -l d").startswith("total 4\n-rwsr-xr-x")
    assert out(sh, "chmod u-x,go= d/x; ls -l d/x").startswith("-rwS------")
    assert out(sh, "chmod nonsense d/x") == "chmod: invalid mode 'nonsense'\n"
    assert out(sh, "rm -rf /tmp") == "rm: can't remove '/tmp': Device or resource busy\n"
    assert out(sh, "rm /bin/busybox") == "rm: can't remove '/bin/busybox': Read-only file system\n"
    assert out(sh, "chmod 777 /bin/busybox") == "chmod: /bin/busybox: Read-only file system\n"
    assert out(sh, "mkdir /x") == "mkdir: can't create directory '/x': Read-only file system\n"
    assert out(sh, "touch /etc/x") == "touch: /etc/x: Read-only file system\n"
    assert out(sh, "cat /tmp") == "cat: read error: Is a directory\n"
