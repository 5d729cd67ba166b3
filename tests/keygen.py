"""OpenSSH's own ssh-keygen, run as a user would: keys made by it, and what
its C{-l} prints of them, for the tests that compare our reading of a key
with OpenSSH's."""

from __future__ import annotations

import subprocess
from pathlib import Path


def keygen(directory: Path, *args: str, comment: str = "me@host", name: str = "") -> Path:
    """A key pair made by C{ssh-keygen ARGS} with no passphrase in C{directory};
    the path of its C{.pub} file."""
    path = directory / (name or "k" + "".join(a.strip("-") for a in args))
    subprocess.run(["ssh-keygen", "-q", *args, "-N", "", "-C", comment, "-f", str(path)],
                   check=True, capture_output=True)
    return path.with_name(path.name + ".pub")


def keygen_l(pub: Path) -> str:
    """What C{ssh-keygen -lf} prints for the key in C{pub}."""
    return subprocess.run(["ssh-keygen", "-lf", str(pub)], check=True, capture_output=True,
                          text=True).stdout.strip()
