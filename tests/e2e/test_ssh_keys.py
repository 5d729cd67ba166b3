"""/key against the real server: a registered user keeps an SSH key made by
ssh-keygen, sees it as ssh-keygen lists it, deletes it; a huge line pasted
as a key is refused with a sentence and disturbs nothing; a guest is told
why not."""

from __future__ import annotations

import re

from tests.e2e.harness import Server
from tests.keygen import keygen, keygen_l

PASSWORD = "alice-password-1"


def said(text: str) -> bytes:
    """A pattern for C{text} as the server wraps it to the window: any
    space may have become a line end and an indent."""
    return r"\s+".join(re.escape(word) for word in text.split()).encode()


def test_a_registered_user_adds_lists_and_deletes_a_key(tmp_path) -> None:
    srv = Server(tmp_path)
    made = srv.admin("user", "add", "alice", stdin=PASSWORD + "\n")
    assert made.returncode == 0, made.stderr
    srv.start()
    try:
        pub = keygen(tmp_path, "-t", "ed25519", comment="alice@laptop")
        bits, fingerprint, comment, kind = keygen_l(pub).split()
        assert (bits, comment, kind) == ("256", "alice@laptop", "(ED25519)")

        alice = srv.login("alice", PASSWORD)
        alice.line("/key add " + pub.read_text().strip())
        alice.expect(said(f"Key 1 added: 256 {fingerprint} alice@laptop (ED25519)."))
        alice.consume()
        alice.line("/key list")
        listed = alice.expect(said("/key del N deletes key N."))
        assert re.search(said(f"1. ssh-ed25519 {fingerprint} alice@laptop added"), listed)

        alice.consume()
        alice.line("/key add " + pub.read_text().strip())
        alice.expect(said("That key is already on your account."))

        alice.consume()
        alice.line("/key del 1")
        alice.expect(said(f"Key 1 deleted: ssh-ed25519 {fingerprint} alice@laptop."))
        alice.line("/key list")
        alice.expect(said("You have no SSH keys."))

        # A huge "key": the line is cut where every line is, and what is left
        # is refused with the reason; the connection carries on.  (60 KB, not
        # a megabyte: the door reads a client at 16 KB/s after a 64 KB burst,
        # so a megabyte takes a minute to arrive and then meets the same cut;
        # tests/test_pubkeys.py refuses a megabyte line unread.)
        alice.consume()
        alice.send(b"/key add ssh-ed25519 " + b"A" * 60_000 + b"\r\n")
        alice.expect(said("Line too long: cut to 1024 characters."))
        alice.expect(said("That is not an OpenSSH public key: its key part is not valid "
                          "base64. Nothing was added."))
        alice.consume()
        alice.line("/key list")
        alice.expect(said("You have no SSH keys."))

        guest = srv.login("")
        guest.line("/key add " + pub.read_text().strip())
        guest.expect(said("Only registered users can log in with SSH keys; see /help register."))
        guest.line("/help key")
        guest.expect(said("/key [add KEY|del N]"))
    finally:
        srv.stop()
    assert "Traceback" not in "".join(srv.output)
