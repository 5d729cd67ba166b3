"""The SSH server's host keys: made once in the data directory, 0600 from the
start, read as OpenSSH reads them, never silently replaced, and served by
conch as clients see them (OpenSSH's ssh-keyscan over loopback)."""

from __future__ import annotations

import os
import shutil
import stat
import subprocess
import tempfile
from pathlib import Path

import pytest
from twisted.conch.ssh.factory import SSHFactory
from twisted.internet import reactor
from twisted.internet.utils import getProcessOutputAndValue
from twisted.trial.unittest import TestCase

from bbs.pubkeys import parse_public_key
from bbs.ssh import hostkeys
from bbs.ssh.hostkeys import ED25519_FILE, RSA_FILE, HostKeyError, existing_host_keys, host_keys
from tests.keygen import keygen


def keygen_l(path: Path) -> list[str]:
    """What ssh-keygen -lf says of a private key file, without its (empty) comment."""
    out = subprocess.run(["ssh-keygen", "-lf", str(path)], check=True, capture_output=True,
                         text=True).stdout.split()
    return [out[0], out[1], out[-1]]


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(scope="module")
def made(tmp_path_factory) -> Path:
    """A data directory whose keys were made by a first start (an RSA key takes a while)."""
    data = tmp_path_factory.mktemp("made") / "data"
    host_keys(data)
    return data


def copy_of(made: Path, tmp_path: Path) -> Path:
    data = tmp_path / "data"
    data.mkdir()
    for name in (ED25519_FILE, RSA_FILE):
        target = data / name
        target.write_bytes((made / name).read_bytes())
        target.chmod(0o600)
    return data


def test_the_first_start_makes_both_keys_in_openssh_format(tmp_path: Path, logged) -> None:
    data = tmp_path / "data"
    old = os.umask(0)  # the files must not depend on the umask to be private
    try:
        keys = host_keys(data)
    finally:
        os.umask(old)
    assert sorted(p.name for p in data.iterdir()) == [ED25519_FILE, RSA_FILE]
    assert mode(data / ED25519_FILE) == mode(data / RSA_FILE) == 0o600
    assert (data / ED25519_FILE).read_bytes().startswith(b"-----BEGIN OPENSSH PRIVATE KEY-----")
    lines = keys.fingerprints()
    assert [line.split() for line in lines] == [keygen_l(data / ED25519_FILE),
                                                keygen_l(data / RSA_FILE)]
    assert lines[0].startswith("256 SHA256:") and lines[0].endswith(" (ED25519)")
    assert lines[1].startswith("3072 SHA256:") and lines[1].endswith(" (RSA)")
    said = [e.get("log_format", "").format(**e) for e in logged if "log_format" in e]
    assert sum("Made the SSH host key" in s for s in said) == 2
    assert [s for s in said if s.startswith("SSH host key ")] == [f"SSH host key {line}"
                                                                   for line in lines]


def test_later_starts_read_the_same_keys(made: Path, tmp_path: Path) -> None:
    data = copy_of(made, tmp_path)
    before = {name: (data / name).read_bytes() for name in (ED25519_FILE, RSA_FILE)}
    first, again = host_keys(data), host_keys(data)
    assert first.fingerprints() == again.fingerprints() == existing_host_keys(made).fingerprints()
    assert {name: (data / name).read_bytes() for name in before} == before


def test_a_key_file_is_private_from_the_moment_it_exists(tmp_path: Path, monkeypatch) -> None:
    seen: list[tuple[str, int]] = []
    real = os.replace

    def replace(source, target):
        seen.append((Path(source).name, mode(Path(source))))
        real(source, target)

    monkeypatch.setattr(os, "replace", replace)
    old = os.umask(0)
    try:
        host_keys(tmp_path / "data")
    finally:
        os.umask(old)
    assert [m for _, m in seen] == [0o600, 0o600]
    assert all(name.startswith(".ssh_host_") for name, _ in seen)


def test_a_failed_write_leaves_no_key_and_no_litter(tmp_path: Path, monkeypatch) -> None:
    def full(source, target):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "replace", full)
    data = tmp_path / "data"
    with pytest.raises(HostKeyError, match=f"Cannot write the SSH host key .*{ED25519_FILE}: "
                                           "No space left on device"):
        host_keys(data)
    assert list(data.iterdir()) == []


def test_looser_permissions_are_tightened_with_one_log_line(made: Path, tmp_path: Path,
                                                              logged) -> None:
    data = copy_of(made, tmp_path)
    (data / RSA_FILE).chmod(0o644)
    host_keys(data)
    assert mode(data / RSA_FILE) == 0o600
    said = [e["log_format"].format(**e) for e in logged if "log_format" in e]
    warned = [s for s in said if "could be read by others" in s]
    assert warned == [f"SSH host key {data / RSA_FILE} could be read by others (mode 0644); "
                      "made it 0600."]


@pytest.mark.parametrize("damage, refusal", [
    (lambda p: p.write_bytes(b"garbage\n"), "is not an OpenSSH private key"),
    (lambda p: p.write_bytes(p.read_bytes()[:100]), "is not an OpenSSH private key"),
    (lambda p: (p.unlink(), p.mkdir()), "Cannot read the SSH host key .*: Is a directory"),
    (lambda p: (p.unlink(), p.symlink_to(p.parent / "gone")), "Cannot read the SSH host key"),
])
def test_a_damaged_key_stops_the_start_and_is_never_replaced(made: Path, tmp_path: Path,
                                                              damage, refusal) -> None:
    data = copy_of(made, tmp_path)
    target = data / ED25519_FILE
    damage(target)
    before = target.read_bytes() if target.is_file() else None
    with pytest.raises(HostKeyError, match=refusal) as stopped:
        host_keys(data)
    assert str(target) in str(stopped.value)
    assert (target.read_bytes() if target.is_file() else None) == before
    with pytest.raises(HostKeyError):
        existing_host_keys(data)


def test_a_key_of_the_wrong_kind_or_with_a_passphrase(made: Path, tmp_path: Path) -> None:
    data = copy_of(made, tmp_path)
    (data / RSA_FILE).write_bytes((made / ED25519_FILE).read_bytes())
    with pytest.raises(HostKeyError, match=f"{RSA_FILE} should hold an RSA key"):
        host_keys(data)
    (data / RSA_FILE).write_bytes((made / RSA_FILE).read_bytes())
    (data / ED25519_FILE).unlink()
    subprocess.run(["ssh-keygen", "-q", "-t", "ed25519", "-N", "secret phrase", "-f",
                    str(data / ED25519_FILE)], check=True, capture_output=True)
    with pytest.raises(HostKeyError, match="protected by a passphrase; .*ssh-keygen -p"):
        host_keys(data)


def test_keys_the_sysop_made_with_ssh_keygen_are_used(tmp_path: Path) -> None:
    data = tmp_path / "data"
    data.mkdir()
    keygen(data, "-t", "ed25519", name=ED25519_FILE, comment="")
    keys = host_keys(data)
    assert keys.fingerprints()[0].split() == keygen_l(data / ED25519_FILE)
    assert (data / RSA_FILE).exists()  # the missing one is made beside it


def test_the_admin_look_makes_nothing(tmp_path: Path) -> None:
    assert existing_host_keys(tmp_path / "nothing") is None
    assert not (tmp_path / "nothing").exists()
    (tmp_path / "empty").mkdir()
    assert existing_host_keys(tmp_path / "empty") is None
    assert list((tmp_path / "empty").iterdir()) == []


def test_the_factory_dictionaries(made: Path) -> None:
    keys = existing_host_keys(made)
    assert keys is not None
    assert list(keys.private_keys()) == list(keys.public_keys()) == [b"ssh-ed25519", b"ssh-rsa"]
    for name, private in keys.private_keys().items():
        public = keys.public_keys()[name]
        assert not private.isPublic() and public.isPublic()
        assert private.public().blob() == public.blob()


class ServedTests(TestCase):
    """conch serves the keys under the names it is given, and an OpenSSH
    client sees the fingerprints we print."""

    async def test_ssh_keyscan_sees_our_fingerprints(self) -> None:
        data = Path(tempfile.mkdtemp())
        self.addCleanup(shutil.rmtree, data)
        keys = host_keys(data)
        factory = SSHFactory()
        factory.privateKeys = keys.private_keys()
        factory.publicKeys = keys.public_keys()
        factory.primes = None
        port = reactor.listenTCP(0, factory, interface="127.0.0.1")
        self.addCleanup(port.stopListening)
        out, err, code = await getProcessOutputAndValue(
            "ssh-keyscan", ["-T", "10", "-p", str(port.getHost().port), "-t", "ed25519,rsa",
                            "127.0.0.1"], env=dict(os.environ))
        assert code == 0, err
        seen = [parse_public_key(line.split(None, 1)[1].decode())
                for line in out.splitlines() if line and not line.startswith(b"#")]
        assert sorted(k.keygen_line(comment=False) for k in seen) == sorted(keys.fingerprints())
        assert hostkeys.RSA_BITS == 3072
