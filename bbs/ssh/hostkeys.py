"""The SSH server's host keys: made once, in the data directory, and kept.

A client remembers the key a server showed it the first time and warns
loudly if it ever changes (a man in the middle looks just like that).  So
the keys are made on the first start only and never replaced: a key file
that cannot be read is an error that stops the server, naming the file,
never a reason to make a new key.  An ed25519 key serves every current
client; an RSA key serves older ones.

Each key is one file in OpenSSH's private key format (what C{ssh-keygen}
writes, so C{ssh-keygen -lf} reads it), mode 0600 from the moment it exists:
written to a temporary file made 0600 and renamed into place, so a crash
leaves the old state or the new one, never half a key.
"""

from __future__ import annotations

import base64
import os
import stat
import tempfile
from pathlib import Path

import attrs
from cryptography.exceptions import UnsupportedAlgorithm
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ed25519, rsa
from twisted.conch.ssh.keys import Key
from twisted.logger import Logger

from bbs.pubkeys import PublicKey, from_blob

ED25519_FILE = "ssh_host_ed25519_key"
RSA_FILE = "ssh_host_rsa_key"
RSA_BITS = 3072

_log = Logger()
_PrivateKey = ed25519.Ed25519PrivateKey | rsa.RSAPrivateKey


class HostKeyError(Exception):
    """A host key file that cannot be used; the message names the file and
    what to do.  The server does not start."""


@attrs.frozen
class HostKey:
    """One host key: its file, its halves as conch uses them, and the
    public half as L{bbs.pubkeys} describes it (type, size, fingerprint)."""

    path: Path
    private: Key = attrs.field(repr=False)
    public: Key = attrs.field(repr=False)
    described: PublicKey


@attrs.frozen
class HostKeys:
    """The server's host keys, ed25519 first (the one clients prefer)."""

    keys: tuple[HostKey, ...]

    def private_keys(self) -> dict[bytes, Key]:
        """For C{SSHFactory.privateKeys}: by key format (C{b"ssh-ed25519"},
        C{b"ssh-rsa"}).  conch signs C{rsa-sha2-256} and C{rsa-sha2-512} with
        the C{ssh-rsa} key itself (C{SSHServerTransport._getHostKeys}), and
        offers the algorithms in this order."""
        return {k.described.algorithm.encode("ascii"): k.private for k in self.keys}

    def public_keys(self) -> dict[bytes, Key]:
        """For C{SSHFactory.publicKeys}, keyed as L{private_keys}."""
        return {k.described.algorithm.encode("ascii"): k.public for k in self.keys}

    def fingerprints(self) -> list[str]:
        """One line a key, as C{ssh-keygen -lf} prints it:
        C{256 SHA256:... (ED25519)}."""
        return [k.described.keygen_line(comment=False) for k in self.keys]


_KINDS: tuple[tuple[str, type, str], ...] = (
    (ED25519_FILE, ed25519.Ed25519PrivateKey, "ed25519"),
    (RSA_FILE, rsa.RSAPrivateKey, "RSA"),
)


def _make(kind: type) -> _PrivateKey:
    if kind is ed25519.Ed25519PrivateKey:
        return ed25519.Ed25519PrivateKey.generate()
    return rsa.generate_private_key(public_exponent=65537, key_size=RSA_BITS)


def _host_key(path: Path, private: _PrivateKey) -> HostKey:
    public = private.public_key()
    line = public.public_bytes(serialization.Encoding.OpenSSH, serialization.PublicFormat.OpenSSH)
    return HostKey(path, Key(private), Key(public),
                   from_blob(base64.b64decode(line.split()[1])))


def _write(path: Path, private: _PrivateKey) -> None:
    """Write the key to C{path}, mode 0600 from the start, all or nothing."""
    data = private.private_bytes(serialization.Encoding.PEM,
                                 serialization.PrivateFormat.OpenSSH,
                                 serialization.NoEncryption())
    fd, temporary = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")  # made 0600
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        os.replace(temporary, path)
    except BaseException:
        Path(temporary).unlink(missing_ok=True)
        raise
    directory = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(directory)
    finally:
        os.close(directory)


def _read(path: Path, kind: type, name: str) -> _PrivateKey:
    """The key in C{path}, its mode tightened to 0600 if others could read it."""
    keep = "It is never replaced by a new one, since clients would see the server's key change"
    try:
        mode = stat.S_IMODE(path.stat().st_mode)
        if mode & 0o077:
            path.chmod(0o600)
            _log.warn("SSH host key {path} could be read by others (mode {mode:04o}); "
                      "made it 0600.", path=str(path), mode=mode)
        data = path.read_bytes()
    except OSError as e:
        raise HostKeyError(f"Cannot read the SSH host key {path}: {e.strerror}. "
                           f"Fix its permissions or restore it from a backup. {keep}.") from None
    try:
        private = serialization.load_ssh_private_key(data, password=None)
    except TypeError:
        raise HostKeyError(f"The SSH host key {path} is protected by a passphrase; the server "
                           f"needs it without one (ssh-keygen -p -N '' -f {path}).") from None
    except (ValueError, UnsupportedAlgorithm):
        raise HostKeyError(f"The SSH host key {path} is not an OpenSSH private key (damaged?). "
                           f"Restore it from a backup, or remove it to have a new key made "
                           f"(clients will then warn that the server's key changed).") from None
    if not isinstance(private, kind):
        raise HostKeyError(f"The SSH host key {path} should hold an {name} key but holds "
                           "another kind; restore it from a backup.")
    return private


def _lookup(directory: Path, *, create: bool) -> list[HostKey]:
    found = []
    for filename, kind, name in _KINDS:
        path = directory / filename
        if path.exists() or path.is_symlink():
            found.append(_host_key(path, _read(path, kind, name)))
        elif create:
            private = _make(kind)
            try:
                _write(path, private)
            except OSError as e:
                raise HostKeyError(f"Cannot write the SSH host key {path}: {e.strerror}.") \
                    from None
            _log.info("Made the SSH host key {path}.", path=str(path))
            found.append(_host_key(path, private))
    return found


def host_keys(directory: Path) -> HostKeys:
    """The server's host keys in the data directory C{directory}: made there
    on the first start, read on the later ones; each fingerprint logged.

    Raises L{HostKeyError}, naming the file, when a key cannot be read or made.
    """
    try:
        directory.mkdir(parents=True, exist_ok=True)
    except OSError as e:
        raise HostKeyError(f"Cannot create the data directory {directory}: {e.strerror}.") \
            from None
    found = HostKeys(tuple(_lookup(directory, create=True)))
    for line in found.fingerprints():
        _log.info("SSH host key {fingerprint}", fingerprint=line)
    return found


def existing_host_keys(directory: Path) -> HostKeys | None:
    """The host keys already in C{directory}, making none; C{None} if there
    are none yet (the server makes them on its first start)."""
    found = _lookup(directory, create=False)
    return HostKeys(tuple(found)) if found else None
