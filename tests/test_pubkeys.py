"""A pasted OpenSSH public key line: read as OpenSSH reads it (the same
fingerprint as C{ssh-keygen -lf}), and refused with one sentence when it is
not a key we take."""

from __future__ import annotations

import base64
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec, ed25519
from twisted.conch.ssh.common import NS

from bbs.pubkeys import KEY_LINE_MAX, KeyProblem, fingerprint, parse_public_key
from tests.keygen import keygen, keygen_l


def raw(ed: bool) -> bytes:
    fmt = serialization.PublicFormat.Raw if ed else serialization.PublicFormat.UncompressedPoint
    key = ed25519.Ed25519PrivateKey.generate() if ed else ec.generate_private_key(ec.SECP256R1())
    return key.public_key().public_bytes(serialization.Encoding.Raw if ed
                                         else serialization.Encoding.X962, fmt)


def sk_lines() -> list[str]:
    """Security-key public keys as a FIDO token would make them (no token here)."""
    ed = NS(b"sk-ssh-ed25519@openssh.com") + NS(raw(True)) + NS(b"ssh:")
    ecdsa = (NS(b"sk-ecdsa-sha2-nistp256@openssh.com") + NS(b"nistp256") + NS(raw(False))
             + NS(b"ssh:"))
    return [f"{blob[4:4 + blob[3]].decode()} {base64.b64encode(blob).decode()} token@host"
            for blob in (ed, ecdsa)]


@pytest.mark.parametrize("args", [("-t", "ed25519"), ("-t", "rsa", "-b", "3072"),
                                  ("-t", "ecdsa", "-b", "256"), ("-t", "ecdsa", "-b", "384"),
                                  ("-t", "ecdsa", "-b", "521")])
def test_what_ssh_keygen_makes_reads_as_ssh_keygen_lists_it(tmp_path: Path, args) -> None:
    pub = keygen(tmp_path, *args)
    key = parse_public_key(pub.read_text())
    assert key.keygen_line() == keygen_l(pub)
    assert key.comment == "me@host"
    assert key.blob == base64.b64decode(pub.read_text().split()[1])


def test_security_keys_are_taken(tmp_path: Path) -> None:
    for line in sk_lines():
        pub = tmp_path / "sk.pub"
        pub.write_text(line + "\n")
        key = parse_public_key(line)
        assert key.keygen_line() == keygen_l(pub)
        assert key.label.endswith("-SK")


def test_a_key_without_a_comment(tmp_path: Path) -> None:
    pub = keygen(tmp_path, "-t", "ed25519", comment="")
    key = parse_public_key(pub.read_text())
    assert key.comment == ""
    assert key.keygen_line() == keygen_l(pub)
    assert key.keygen_line(comment=False) == f"256 {key.fingerprint} (ED25519)"


def test_a_comment_keeps_its_spaces_but_no_escape_sequences(tmp_path: Path) -> None:
    pub = keygen(tmp_path, "-t", "ed25519")
    kind, data, _ = pub.read_text().split()
    key = parse_public_key(f"{kind} {data} my laptop \x1b[31mred\x1b[0m")
    assert key.comment == "my laptop red"


def test_small_rsa_is_refused_with_its_size(tmp_path: Path) -> None:
    pub = keygen(tmp_path, "-t", "rsa", "-b", "1024")
    with pytest.raises(KeyProblem, match="1024 bits, too few.*at least 2048"):
        parse_public_key(pub.read_text())


def test_a_megabyte_line_is_refused_unread() -> None:
    with pytest.raises(KeyProblem, match=r"1,048,576 bytes long; .* at most 8 KiB"):
        parse_public_key("ssh-ed25519 " + "A" * (1024 * 1024 - 12))
    with pytest.raises(KeyProblem, match="not valid base64"):
        parse_public_key("ssh-ed25519 " + "!" * (KEY_LINE_MAX - 12))


@pytest.mark.parametrize("line, reason", [
    ("", "not an OpenSSH public key; give one line"),
    ("hello there", "not an OpenSSH public key; give one line"),
    ("AAAAC3NzaC1lZDI1NTE5AAAAIE8b", "not an OpenSSH public key; give one line"),
    ("-----BEGIN OPENSSH PRIVATE KEY-----", "That is a private key"),
    ("ssh-ed25519 AAAA%%%", "not valid base64"),
    ("ssh-ed25519 " + base64.b64encode(NS(b"ssh-ed25519") + NS(b"short")).decode(), "damaged"),
    ("ssh-ed25519 " + base64.b64encode(b"\xff\xff").decode(), "damaged"),
    ("ssh-ed25519 " + "A" * 1000, "damaged"),  # zeros: a type of no name
    ("ssh-ed25519 " + base64.b64encode(NS(b"\x00\x01") + NS(b"x")).decode(), "damaged"),
    ("ssh-dss " + base64.b64encode(NS(b"ssh-dss") + b"\0" * 20).decode(), "DSA keys"),
    ("ssh-rsa " + base64.b64encode(NS(b"ssh-ed25519") + NS(b"k" * 32)).decode(),
     "says ssh-rsa, but its key data is an ssh-ed25519 key"),
    ("ssh-ed25519 " + base64.b64encode(NS(b"ssh-foo") + NS(b"x")).decode(),
     "type ssh-foo are not accepted"),
    ("ssh-ed25519 " + base64.b64encode(NS(b"ssh-foo\x1b[2J") + NS(b"x")).decode(), "damaged"),
])
def test_what_is_not_a_key_is_refused_in_one_sentence(line: str, reason: str) -> None:
    with pytest.raises(KeyProblem, match=reason) as refused:
        parse_public_key(line)
    message = str(refused.value)
    assert message.endswith(".") or "you@host" in message
    assert "\n" not in message and "\x1b" not in message


def test_the_fingerprint_is_openssh_s() -> None:
    assert fingerprint(b"") == "SHA256:47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU"
