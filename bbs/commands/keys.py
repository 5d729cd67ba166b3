"""C{/key}: the SSH public keys a registered user logs in with.

A key is added as its owner pastes it (one line of a C{.pub} file), read and
checked by L{bbs.pubkeys}, and kept on the account in its wire form, which is
what an SSH client offers when it logs in.  Only the owner, logged in to the
account, sees or changes them.
"""

from __future__ import annotations

from collections.abc import Sequence

from bbs.commands import CommandError, registry, split_first
from bbs.commands.accounts import _registered, when
from bbs.context import Context
from bbs.effects import Effect, Reply
from bbs.pubkeys import KeyProblem, parse_public_key
from bbs.styled import Span

USAGE = "Usage: /key list, /key add <a line of your .pub file>, or /key del N"


@registry.command("key", "/key [add KEY|del N]",
                  "List your SSH keys, add one (a line of your .pub file), or delete key N.")
def key(ctx: Context, args: str) -> Sequence[Effect]:
    word, rest = split_first(args)
    action = word.lower() or "list"
    if action not in ("list", "add", "del"):
        raise CommandError(USAGE)
    store = _registered(ctx, "log in with SSH keys")
    account = ctx.account or ""
    if action == "add":
        if not rest:
            raise CommandError("Usage: /key add <a line of your .pub file>, like "
                               "ssh-ed25519 AAAAC3Nza... you@host")
        try:
            pasted = parse_public_key(rest)
        except KeyProblem as e:
            raise CommandError(f"{e} Nothing was added.") from None
        added = store.add_key(account, pasted.algorithm, pasted.blob, pasted.comment,
                              pasted.fingerprint, ctx.now)
        return [Reply(f"Key {added.number} added: {pasted.keygen_line()}. "
                      f"You can log in as {account} over SSH with it.")]
    if action == "del":
        if not (rest.isascii() and rest.isdigit()):
            raise CommandError("Usage: /key del N, with N from /key list")
        gone = store.delete_key(account, int(rest))
        if gone is None:
            raise CommandError(f"You have no key {rest}; /key list shows them.")
        return [Reply(f"Key {rest} deleted: {gone.algorithm} {gone.fingerprint}"
                      f"{' ' + gone.comment if gone.comment else ''}.")]
    if rest:
        raise CommandError(USAGE)
    keys = store.list_keys(account)
    if not keys:
        return [Reply("You have no SSH keys. /key add <a line of your .pub file> adds one, "
                      "to log in over SSH without a password.")]
    out: list[Effect] = [Reply((Span(f"SSH keys of {account}:", "bold"),))]
    for k in keys:
        comment = f"  {k.comment}" if k.comment else ""
        out.append(Reply(f"{k.number:>2}. {k.algorithm}  {k.fingerprint}{comment}  "
                         f"added {when(k.added)}"))
    out.append(Reply((Span("/key del N deletes key N.", "dim"),)))
    return out
