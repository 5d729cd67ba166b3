"""What an SSH public key is, as a person pastes it (one line of a C{.pub}
file) and as OpenSSH names it (its SHA256 fingerprint).

On the ground floor because two layers that may not import each other use
it: the C{/key} commands check a user's key by it, and the SSH door prints
its own host keys' fingerprints by it.  The key itself is read by
L{twisted.conch.ssh.keys} (which knows the security-key C{sk-} types too);
the type name, the size and the fingerprint are read from the key's wire
form here, because conch's own accessors warn about DSA on every call.
"""

from __future__ import annotations

import base64
import binascii
import hashlib

import attrs
from twisted.conch.ssh import common, keys

from bbs.text import sanitize

# Bytes in one pasted key line: an 8192-bit RSA key with a long comment
# fits; a megabyte of "key" is refused before anything reads it.
KEY_LINE_MAX = 8 * 1024
RSA_MIN_BITS = 2048
COMMENT_MAX = 200  # characters of a key's comment kept

# Accepted types, and how ssh-keygen -l names each.
LABELS: dict[str, str] = {
    "ssh-ed25519": "ED25519",
    "ecdsa-sha2-nistp256": "ECDSA",
    "ecdsa-sha2-nistp384": "ECDSA",
    "ecdsa-sha2-nistp521": "ECDSA",
    "sk-ssh-ed25519@openssh.com": "ED25519-SK",
    "sk-ecdsa-sha2-nistp256@openssh.com": "ECDSA-SK",
    "ssh-rsa": "RSA",
}
_BITS = {
    "ssh-ed25519": 256,
    "ecdsa-sha2-nistp256": 256,
    "ecdsa-sha2-nistp384": 384,
    "ecdsa-sha2-nistp521": 521,
    "sk-ssh-ed25519@openssh.com": 256,
    "sk-ecdsa-sha2-nistp256@openssh.com": 256,
}
_EXAMPLE = "one line of your .pub file, like: ssh-ed25519 AAAAC3Nza... you@host"


class KeyProblem(ValueError):
    """A key line that is refused; the message is one sentence for the user."""


def fingerprint(blob: bytes) -> str:
    """OpenSSH's fingerprint of a key's wire form: C{SHA256:} and the
    digest in base64 without padding, as C{ssh-keygen -l} prints it."""
    digest = base64.b64encode(hashlib.sha256(blob).digest()).decode("ascii")
    return "SHA256:" + digest.rstrip("=")


@attrs.frozen
class PublicKey:
    """A public key as its owner gave it: the exact wire form (what a
    client sends when it offers the key), its type, size and comment."""

    algorithm: str
    blob: bytes = attrs.field(repr=False)
    bits: int
    comment: str = ""

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.blob)

    @property
    def label(self) -> str:
        """The kind of key as C{ssh-keygen -l} writes it: C{ED25519}, C{RSA}..."""
        return LABELS.get(self.algorithm, self.algorithm.upper())

    def keygen_line(self, *, comment: bool = True) -> str:
        """The line C{ssh-keygen -lf} prints for this key (without the
        comment for a host key, which has none)."""
        middle = f" {self.comment or 'no comment'}" if comment else ""
        return f"{self.bits} {self.fingerprint}{middle} ({self.label})"


def from_blob(blob: bytes, comment: str = "") -> PublicKey:
    """The key whose wire form is C{blob}; L{KeyProblem} if it is not one
    of the accepted types or does not hold a valid key."""
    try:
        kind, rest = common.getNS(blob)
        algorithm = kind.decode("ascii")
    except Exception:
        algorithm = ""
    if not algorithm.isprintable() or not algorithm.strip():
        raise KeyProblem("That is not an OpenSSH public key: its key data is damaged.")
    if algorithm == "ssh-dss":
        raise KeyProblem("DSA keys (ssh-dss) are not accepted: they are too weak, and OpenSSH "
                         "no longer takes them either; make one with ssh-keygen -t ed25519.")
    if algorithm not in LABELS:
        raise KeyProblem(f"Keys of type {sanitize(algorithm)[:40]} are not accepted; use "
                         "ed25519, ecdsa, a security key (sk-) or RSA of 2048 bits or more.")
    try:
        if algorithm == "ssh-rsa":
            _, modulus, _ = common.getMP(rest, 2)
            bits = modulus.bit_length()
        else:
            bits = _BITS[algorithm]
        keys.Key.fromString(blob, type="blob")  # a valid point, a 32-byte ed25519 key...
    except Exception:
        raise KeyProblem("That is not an OpenSSH public key: its key data is damaged.") from None
    if algorithm == "ssh-rsa" and bits < RSA_MIN_BITS:
        raise KeyProblem(f"That RSA key has {bits} bits, too few to be safe; give one of at "
                         f"least {RSA_MIN_BITS} bits, or make one with ssh-keygen -t ed25519.")
    return PublicKey(algorithm, blob, bits, comment)


def parse_public_key(line: str) -> PublicKey:
    """A key from one line of an OpenSSH C{.pub} file (C{TYPE BASE64
    [COMMENT]}); L{KeyProblem} with the reason for anything else.

    The line's size is checked before anything else reads it.
    """
    size = len(line.encode("utf-8", "surrogatepass"))
    if size > KEY_LINE_MAX:
        raise KeyProblem(f"That line is {size:,} bytes long; a public key line is at most "
                         f"{KEY_LINE_MAX // 1024} KiB.")
    line = line.strip()
    if line.startswith("-----BEGIN"):
        raise KeyProblem("That is a private key: keep it to yourself, and give the line of "
                         "the .pub file beside it.")
    fields = line.split(None, 2)
    if len(fields) < 2 or fields[0] not in LABELS and fields[0] != "ssh-dss":
        raise KeyProblem(f"That is not an OpenSSH public key; give {_EXAMPLE}")
    try:
        blob = base64.b64decode(fields[1].encode("ascii"), validate=True)
    except (binascii.Error, UnicodeEncodeError):
        raise KeyProblem("That is not an OpenSSH public key: its key part is not "
                         "valid base64.") from None
    comment = sanitize(fields[2].strip())[:COMMENT_MAX] if len(fields) > 2 else ""
    key = from_blob(blob, comment)
    if key.algorithm != fields[0]:
        raise KeyProblem(f"That line says {fields[0]}, but its key data is an "
                         f"{key.algorithm} key; copy the line whole.")
    return key
