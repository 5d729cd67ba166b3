"""C{hfnjbbs-admin}: manage accounts, sysops and bans, and print the bot report
and the SSH host keys' fingerprints from the shell.

It opens the same database as the server and may run while the server does:
SQLite's WAL mode and busy timeout let both write, and the server takes up ban
changes within a poll through L{bbs.store.IStore.ban_changes}.

Exit status: 0 done, 1 refused or failed (one line on stderr), 2 bad usage.
"""

from __future__ import annotations

import argparse
import getpass
import sys
import time
from collections.abc import Callable, Sequence
from datetime import datetime, timezone
from pathlib import Path

from bbs import passwords, report
from bbs.durations import DEFAULT_BAN, format_duration, parse_duration
from bbs.guard.addresses import ban_target
from bbs.store import (
    DATABASE_NAME,
    BanRecord,
    Refused,
    SQLiteStore,
    StoreError,
)
from bbs.names import Registered, identity_problem
from bbs.ssh.hostkeys import HostKeyError, existing_host_keys
from bbs.text import escape, name_problem

PROG = "hfnjbbs-admin"
DEFAULT_DATA = "hfnjbbs-data"
# Who set a ban from the command line, as the chat's /bans shows it.
CONSOLE = "console"
BANS_LISTED = 100  # a honeypot's list runs to tens of thousands


class AdminError(Exception):
    """A command that cannot be carried out; the message says why."""


def shown(out: str | list[str]) -> str:
    """What a command returned (one line, or a list of them) as the sysop's
    terminal may print it: every unprintable character escaped (L{escape}).

    Rows in the database may hold anything (an older version, a restore,
    another tool wrote them): a ban reason must neither clear the screen nor
    start a line of its own.
    """
    lines = [out] if isinstance(out, str) else out
    return "\n".join([escape(line) for line in lines])


def _when(seconds: float | None) -> str:
    if seconds is None:
        return "never"
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(seconds))


def read_password() -> str:
    """The new password: typed twice without echo, or one line of stdin.

    Reading stdin when it is not a terminal lets scripts set passwords
    without putting them on a command line, where C{ps} would show them.
    """
    if sys.stdin.isatty():
        try:
            first = getpass.getpass("New password: ")
            again = getpass.getpass("Repeat it: ")
        except EOFError:
            raise AdminError("No password given.") from None
        if again != first:
            raise AdminError("The passwords do not match.")
        password = first
    else:
        line = sys.stdin.readline(passwords.MAX_PASSWORD + 2)
        if not line:
            raise AdminError("No password on standard input.")
        password = line.rstrip("\r\n")
    problem = passwords.password_problem(password)
    if problem:
        raise AdminError(problem)
    return password


def user_add(store: SQLiteStore, args: argparse.Namespace) -> str:
    problem = name_problem(args.name)
    if problem:
        raise AdminError(problem)
    if store.get_account(args.name) is not None:
        raise AdminError(f"The nickname {args.name} is already registered.")
    # The sysop may name an account "sysop" or "guest7", but not a disguise
    # of a reserved or registered name.
    problem = identity_problem(args.name, Registered.of(a.nick for a in store.list_accounts()), own=True)
    if problem:
        raise AdminError(problem)
    password_hash = passwords.hash_password(read_password())
    store.create_account(args.name, password_hash, sysop=args.sysop)
    return f"Created {'sysop ' if args.sysop else ''}account {args.name}."


def user_del(store: SQLiteStore, args: argparse.Namespace) -> str:
    if not store.delete_account(args.name):
        raise AdminError(f"There is no account {args.name}.")
    return f"Deleted account {args.name}, its mail and its SSH keys."


def user_list(store: SQLiteStore, args: argparse.Namespace) -> str | list[str]:
    accounts = store.list_accounts()
    if not accounts:
        return "No accounts."
    lines = [f"{'NICK':<16}  {'SYSOP':<5}  {'CREATED':<16}  LAST SEEN"]
    for account in accounts:
        lines.append(
            f"{account.nick:<16}  {'yes' if account.is_sysop else 'no':<5}  "
            f"{_when(account.created):<16}  {_when(account.last_seen)}"
        )
    return lines


def user_sysop(store: SQLiteStore, args: argparse.Namespace) -> str:
    on = args.state == "on"
    store.set_sysop(args.name, on)
    return f"{args.name} is {'now' if on else 'no longer'} a sysop."


def user_passwd(store: SQLiteStore, args: argparse.Namespace) -> str:
    if store.get_account(args.name) is None:
        raise AdminError(f"There is no account {args.name}.")
    store.set_password_hash(args.name, passwords.hash_password(read_password()))
    return f"Changed the password of {args.name}."


def _target(text: str) -> tuple[str, str]:
    try:
        return ban_target(text)
    except ValueError as e:
        raise AdminError(str(e)) from None


def ban_add(store: SQLiteStore, args: argparse.Namespace) -> str:
    kind, target = _target(args.target)
    now = time.time()
    expires = None if args.duration is None else now + args.duration
    store.add_ban(BanRecord(None, kind, target, args.reason, CONSOLE, now, expires))
    if args.duration is None:
        return f"Banned {target} permanently."
    return f"Banned {target} for {format_duration(args.duration)}."


def ban_del(store: SQLiteStore, args: argparse.Namespace) -> str:
    kind, target = _target(args.target)
    if not store.remove_ban(kind, target):
        raise AdminError(f"There is no ban on {target}.")
    return f"Lifted the ban on {target}."


def ban_list(store: SQLiteStore, args: argparse.Namespace) -> str | list[str]:
    now = time.time()
    if args.all:
        bans = store.list_bans(now)
        total = len(bans)
    else:
        total, bans = store.find_bans(now, args.match or "", args.limit)
        bans.reverse()  # oldest first, as the whole list is
    if not bans:
        return f"No ban mentions {args.match}." if args.match else "No bans."
    lines = []
    for ban in bans:
        if ban.expires is None:
            lasting = "permanent"
        else:
            lasting = f"{format_duration(ban.expires - now)} left"
        reason = f": {ban.reason}" if ban.reason else ""
        lines.append(f"{ban.kind:<4}  {ban.target:<24}  {lasting:<12}  by {ban.set_by}{reason}")
    if total > len(bans):
        lines.append(f"(the newest {len(bans)} of {total} bans; --all lists every one, "
                     "--match TEXT finds by target, reason or who set it)")
    return lines


def backup(store: SQLiteStore, args: argparse.Namespace) -> str:
    store.backup_to(args.file)
    return f"Backed up {store.path} to {args.file}."


def _duration(text: str) -> float | None:
    try:
        return parse_duration(text)
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _count(text: str) -> int:
    if not (text.isascii() and text.isdigit() and 1 <= int(text) <= 1_000_000):
        raise argparse.ArgumentTypeError(f"Not a number of bans: {text!r}. Give 1 to 1000000.")
    return int(text)


def _since(text: str) -> datetime:
    try:
        return report.parse_since(text, datetime.now(timezone.utc))
    except ValueError as e:
        raise argparse.ArgumentTypeError(str(e)) from None


def _top(text: str) -> int:
    rows = int(text) if text.isascii() and text.isdigit() else 0
    if not 1 <= rows <= report.MAX_TOP:
        raise argparse.ArgumentTypeError(
            f"Not a number of rows: {text!r}. Give 1 to {report.MAX_TOP}.")
    return rows


def bot_report(args: argparse.Namespace) -> int:
    """Print the bot report; it reads the event log, not the database."""
    try:
        result = report.build_report(Path(args.data), since=args.since, top=args.top)
    except report.ReportError as e:
        print(f"{PROG}: {e}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: Interrupted.", file=sys.stderr)
        return 1
    if args.json:
        print(report.report_json(result))
    else:
        print(report.report_text(result, encoding=getattr(sys.stdout, "encoding", None) or "utf-8"))
    return 0


def ssh_fingerprints(args: argparse.Namespace) -> int:
    """Print the host keys' fingerprints, as ssh-keygen -l does and as a
    client shows them on first contact; it reads the key files and makes none."""
    try:
        keys = existing_host_keys(Path(args.data))
    except HostKeyError as e:
        print(f"{PROG}: {shown(str(e))}", file=sys.stderr)
        return 1
    if keys is None:
        print(f"{PROG}: There are no SSH host keys in {shown(args.data)} yet; the server makes "
              "them on its first start.", file=sys.stderr)
        return 1
    print(shown(keys.fingerprints()))
    return 0


Command = Callable[[SQLiteStore, argparse.Namespace], "str | list[str]"]


def make_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog=PROG,
        description="Manage hfnjbbs accounts, sysops and bans, back up its database, "
        "print the bot report and the SSH host keys' fingerprints.",
    )
    parser.add_argument(
        "--data", default=DEFAULT_DATA, metavar="DIR",
        help=f"the server's data directory (default: {DEFAULT_DATA})",
    )
    topics = parser.add_subparsers(dest="topic", required=True, metavar="COMMAND")

    def command(
        group: argparse._SubParsersAction, name: str, run: Command, help: str, *, creates: bool = False
    ) -> argparse.ArgumentParser:
        sub = group.add_parser(name, help=help, description=help)
        sub.set_defaults(run=run, creates=creates)
        return sub

    users = topics.add_parser("user", help="manage accounts").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    sub = command(users, "add", user_add, "register an account", creates=True)
    sub.add_argument("name")
    sub.add_argument("--sysop", action="store_true", help="with sysop rights")
    command(users, "del", user_del, "delete an account, its mail and its SSH keys").add_argument("name")
    command(users, "list", user_list, "list the accounts")
    sub = command(users, "sysop", user_sysop, "grant or revoke sysop rights")
    sub.add_argument("name")
    sub.add_argument("state", choices=("on", "off"))
    command(users, "passwd", user_passwd, "set a new password").add_argument("name")

    bans = topics.add_parser("ban", help="manage bans").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    sub = command(bans, "add", ban_add, "ban an address, network or nickname", creates=True)
    sub.add_argument("target", help="IPv4/IPv6 address, CIDR network or nickname")
    sub.add_argument(
        "--duration", type=_duration, default=DEFAULT_BAN,
        help=f"like 30m, 2h, 7d, 1w, or perm for permanent (default {DEFAULT_BAN}, as /ban)",
    )
    sub.add_argument("--reason", default="", help="shown to the banned user")
    command(bans, "del", ban_del, "lift a ban").add_argument("target")
    sub = command(bans, "list", ban_list, "list the newest bans in force")
    sub.add_argument("--match", metavar="TEXT", help="only bans whose target, reason or "
                     "setter mention TEXT")
    sub.add_argument("--limit", type=_count, default=BANS_LISTED, metavar="N",
                     help=f"list the newest N (default {BANS_LISTED})")
    sub.add_argument("--all", action="store_true", help="list every ban, oldest first")

    command(topics, "backup", backup, "copy the database safely, even while the server runs")
    topics.choices["backup"].add_argument("file", help="the new file to write")

    summary = "summarise what bots did, from the event log"
    sub = topics.add_parser("report", help=summary, description=summary)
    sub.add_argument(
        "--since", type=_since, default=None, metavar="DATE",
        help="only events from then on: YYYY-MM-DD, an ISO timestamp (UTC unless it says "
             "otherwise) or how long ago, like 24h or 7d",
    )
    sub.add_argument(
        "--top", type=_top, default=report.DEFAULT_TOP, metavar="N",
        help=f"rows in each ranking (default: {report.DEFAULT_TOP})",
    )
    sub.add_argument("--json", action="store_true", help="print one JSON object instead")

    ssh = topics.add_parser("ssh", help="the SSH door's host keys").add_subparsers(
        dest="action", required=True, metavar="ACTION"
    )
    summary = "print the fingerprints of the host keys, as SSH clients show them"
    ssh.add_parser("fingerprints", help=summary, description=summary)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    try:
        args = make_parser().parse_args(argv)
    except SystemExit as e:
        return e.code if isinstance(e.code, int) else 2
    if args.topic == "report":
        return bot_report(args)
    if args.topic == "ssh":
        return ssh_fingerprints(args)
    path = Path(args.data) / DATABASE_NAME
    if not path.exists():
        if not args.creates:
            print(f"{PROG}: There is no database at {path}.", file=sys.stderr)
            return 1
        print(f"{PROG}: Creating a new database at {path}.", file=sys.stderr)
    store = SQLiteStore(path)
    try:
        store.open()
        print(shown(args.run(store, args)))
    except (AdminError, Refused, StoreError) as e:
        print(f"{PROG}: {shown(str(e))}", file=sys.stderr)
        return 1
    except KeyboardInterrupt:
        print(f"\n{PROG}: Interrupted, nothing changed.", file=sys.stderr)
        return 1
    finally:
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
