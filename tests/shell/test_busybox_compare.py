"""The fake BusyBox against a real one, side by side, on bot command lines.

Runs C{tools/busybox_compare.py}: a real BusyBox ash (Debian's
busybox-static, 1.35.0, the version the fake claims) in a sandbox with no
network, and the fake, on the same lines.  Skipped with the reason when the
real BusyBox or the namespaces are missing, except under CI, where that
fails.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
TOOL = ROOT / "tools" / "busybox_compare.py"
BUSYBOX = Path("/bin/busybox")


def _unavailable() -> str | None:
    """Why the comparison cannot run here, or C{None}."""
    if not BUSYBOX.exists():
        return "the real BusyBox is missing: apt-get install busybox-static"
    version = subprocess.run([str(BUSYBOX)], capture_output=True, text=True).stdout
    if not version.startswith("BusyBox v1.35.0 "):
        return f"the fake claims BusyBox 1.35.0, this one is {version.splitlines()[:1]}"
    probe = subprocess.run(["unshare", "--net", "--mount", "--pid", "--fork", "true"],
                           capture_output=True)
    if probe.returncode != 0:
        return "no private namespaces here (unshare needs root or user namespaces)"
    return None


def test_bot_lines_match_real_busybox() -> None:
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must compare with a real BusyBox: {reason}")
        pytest.skip(reason)
    run = subprocess.run([sys.executable, str(TOOL), "--json"], capture_output=True, text=True,
                         timeout=300, cwd=ROOT)
    assert run.returncode in (0, 1), run.stderr
    rows = json.loads(run.stdout)
    assert len(rows) >= 60
    classes = [row["class"] for row in rows]
    bad = [(row["line"], row["class"], row["fake"], row["real"]) for row in rows
           if row["class"] not in ("exact", "shape")]
    assert classes.count("missing") == 0, bad
    assert (classes.count("exact") + classes.count("shape")) / len(rows) >= 0.9, bad
    # The lines bots decide by are word for word the real ones.
    by_line = {row["line"]: row["class"] for row in rows}
    for line in ("enable", "/bin/busybox MIRAI", "cat nope", "echo x > /proc/x",
                 "dd bs=52 count=1 if=.s || cat .s || while read i; do echo $i; done < .s",
                 "cat /proc/self/exe > /dev/null; echo $?"):
        assert by_line[line] == "exact", line
    assert run.returncode == 0


def test_every_applet_is_one_busybox_1_35_has() -> None:
    """A consistent applet list: nothing the claimed version lacks."""
    reason = _unavailable()
    if reason is not None:
        if os.environ.get("CI"):
            pytest.fail(f"CI must compare with a real BusyBox: {reason}")
        pytest.skip(reason)
    from bbs.shell.applets import programs  # noqa: F401 (registers every applet)
    from bbs.shell.applets.registry import APPLETS
    real = set(subprocess.run([str(BUSYBOX), "--list"], capture_output=True, text=True)
               .stdout.split())
    assert set(APPLETS) - real == set()
