"""Accounts, offline mail, boards and /seen: the commands that use the store.

Handlers block on SQLite and argon2 freely: they run in the worker pool.
Multi-step dialogues (passwords typed twice, a post's body) are chains of
L{Ask} effects whose continuations carry what was typed so far in closures,
so no half-finished dialogue lives in shared state.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from functools import partial

from bbs import passwords
from bbs.commands import CommandError, registry, split_first
from bbs.context import Context
from bbs.effects import Ask, ChangeNick, Effect, LoggedIn, LoginFailed, Notify, Reply
from bbs.names import nick_problem
from bbs.store import IStore
from bbs.styled import Span
from bbs.text import fold

MAIL_MAX = 1000
SUBJECT_MAX = 80
BODY_LINES = 200
BODY_CHARS = 8000


def when(seconds: float) -> str:
    """A moment as people read it, in UTC so that everyone sees the same."""
    return time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime(seconds))


def _store(ctx: Context) -> IStore:
    if ctx.store is None:
        raise CommandError("Accounts are not available on this server.")
    return ctx.store


def _registered(ctx: Context, doing: str) -> IStore:
    store = _store(ctx)
    if ctx.account is None:
        raise CommandError(f"Only registered users can {doing}; see /help register.")
    return store


# -- logging in ---------------------------------------------------------------


def password_prompt(nick: str) -> Ask:
    return Ask("Password: ", partial(verify, nick), secret=True, login=nick)


def identify(ctx: Context, nick: str) -> Sequence[Effect]:
    """At C{login:}: a registered nickname is asked for its password."""
    if fold(nick) in ctx.registered:
        return [password_prompt(nick)]
    problem = nick_problem(nick, ctx.registered)
    if problem:
        raise CommandError(problem + " Try another, or press Enter to be a guest.")
    return [ChangeNick(nick)]


def verify(nick: str, ctx: Context, password: str) -> Sequence[Effect]:
    """Check a password; an unknown account costs the same time as a real one."""
    store = _store(ctx)
    account = store.get_account(nick)
    if account is None:
        passwords.verify_unknown(password)
        return [LoginFailed(nick)]
    ok, upgraded = passwords.verify_password(password, account.password_hash)
    if not ok:
        return [LoginFailed(nick)]
    if upgraded:
        store.set_password_hash(account.nick, upgraded)
    store.touch_seen(account.nick, ctx.now)
    return [LoggedIn(account.nick, account.is_sysop, store.unread_count(account.nick))]


@registry.command("login", "/login NICK", "Log in to your registered nickname.")
def login(ctx: Context, args: str) -> Sequence[Effect]:
    nick, _ = split_first(args)
    if not nick:
        raise CommandError("Usage: /login NICK")
    _store(ctx)
    if ctx.account is not None and fold(ctx.account) == fold(nick):
        raise CommandError(f"You are already logged in as {ctx.account}.")
    return [password_prompt(nick)]


@registry.command("register", "/register", "Reserve your nickname with a password.")
def register(ctx: Context, args: str) -> Sequence[Effect]:
    store = _store(ctx)
    if ctx.account is not None:
        raise CommandError(f"You are already registered as {ctx.account}.")
    if ctx.guest:
        raise CommandError("Choose a nickname first with /nick NAME, then /register.")
    if store.get_account(ctx.nick) is not None:
        raise CommandError(f"{ctx.nick} is registered already; /login {ctx.nick} to use it.")
    # The name was free when taken, but an account that looks like it may
    # have been made since (from the shell): the same rule as for /nick.
    problem = nick_problem(ctx.nick, ctx.registered)
    if problem:
        raise CommandError(f"{problem} Take another with /nick NAME, then /register.")
    return [_new_password("Password: ", "Nothing was registered; /register to try again.",
                          _register_done)]


def _register_done(ctx: Context, password: str) -> Sequence[Effect]:
    store = _store(ctx)
    store.create_account(ctx.nick, passwords.hash_password(password))
    store.touch_seen(ctx.nick, ctx.now)
    return [
        Reply((Span(f"Registered {ctx.nick}. Next time, log in with it at the prompt.", "dim"),)),
        LoggedIn(ctx.nick, False, 0),
    ]


def _new_password(prompt: str, nothing: str,
                  done: Callable[[Context, str], Sequence[Effect]]) -> Ask:
    """Ask for a new password twice (echo off), then hand it to C{done}.

    C{nothing} tells the user that a refusal changed nothing.
    """

    def first(ctx: Context, password: str) -> Sequence[Effect]:
        problem = passwords.password_problem(password)
        if problem:
            raise CommandError(f"{problem} {nothing}")
        return [Ask(f"{prompt.rstrip(': ')} again: ", partial(second, password), secret=True)]

    def second(typed: str, ctx: Context, again: str) -> Sequence[Effect]:
        if again != typed:
            raise CommandError(f"The passwords differ. {nothing}")
        return done(ctx, typed)

    return Ask(prompt, first, secret=True)


@registry.command("password", "/password", "Change your password.")
def password(ctx: Context, args: str) -> Sequence[Effect]:
    _registered(ctx, "change a password")
    return [Ask("Old password: ", _password_old, secret=True)]


def _password_old(ctx: Context, old: str) -> Sequence[Effect]:
    account = _store(ctx).get_account(ctx.account or "")
    if account is None or not passwords.verify_password(old, account.password_hash)[0]:
        raise CommandError("That is not your password. Nothing was changed.")
    return [_new_password("New password: ", "Nothing was changed.", _password_done)]


def _password_done(ctx: Context, password: str) -> Sequence[Effect]:
    _store(ctx).set_password_hash(ctx.account or "", passwords.hash_password(password))
    return [Reply("Your password has been changed.")]


# -- mail ---------------------------------------------------------------------


@registry.command("mail", "/mail NICK TEXT", "Leave a message for a registered user.", heard=True)
def mail(ctx: Context, args: str) -> Sequence[Effect]:
    store = _registered(ctx, "send mail")
    nick, text = split_first(args)
    if not nick or not text:
        raise CommandError("Usage: /mail NICK TEXT")
    if len(text) > MAIL_MAX:
        raise CommandError(f"A message is at most {MAIL_MAX} characters.")
    account = store.get_account(nick)
    if account is None:
        raise CommandError(f"There is no registered user called {nick}.")
    store.send_mail(ctx.nick, account.nick, text, ctx.now)
    return [
        Reply(f"Mail for {account.nick} saved."),
        Notify(account.nick, f"You have new mail from {ctx.nick}; /inbox reads it."),
    ]


@registry.command("inbox", "/inbox [del N]", "Read your mail, or delete letter N.")
def inbox(ctx: Context, args: str) -> Sequence[Effect]:
    store = _registered(ctx, "have mail")
    word, rest = split_first(args)
    if word:
        if word.lower() != "del" or not rest.isdigit():
            raise CommandError("Usage: /inbox, or /inbox del N")
        if not store.delete_mail(ctx.account, int(rest)):
            raise CommandError(f"You have no letter {rest}.")
        return [Reply(f"Letter {rest} deleted.")]
    letters = store.inbox(ctx.account)
    if not letters:
        return [Reply("Your inbox is empty.")]
    out: list[Effect] = []
    for m in letters:
        new = "" if m.read else " [new]"
        out.append(Reply((Span(f"{m.number}.{new} from {m.sender}, {when(m.sent)}:", "bold"),
                          Span(f" {m.text}"))))
    store.mark_read(ctx.account)
    out.append(Reply((Span("/inbox del N deletes letter N.", "dim"),)))
    return out


# -- boards -------------------------------------------------------------------


@registry.command("boards", "/boards", "List the message boards.")
def boards(ctx: Context, args: str) -> Sequence[Effect]:
    out: list[Effect] = [Reply((Span(f"{'Board':<16}{'Posts':>6}  Newest", "bold"),))]
    for b in _store(ctx).list_boards():
        newest = when(b.newest) if b.newest else "-"
        out.append(Reply(f"{b.name:<16}{b.posts:>6}  {newest}  {b.description}"))
    out.append(Reply((Span("/read BOARD lists posts; /post BOARD SUBJECT writes one.", "dim"),)))
    return out


@registry.command("read", "/read BOARD [N]", "List a board's posts, or read post N.")
def read(ctx: Context, args: str) -> Sequence[Effect]:
    store = _store(ctx)
    board, number = split_first(args)
    if not board:
        raise CommandError("Usage: /read BOARD [N]")
    if store.get_board(board) is None:
        raise CommandError(f"There is no board called {board}; /boards lists them.")
    if number:
        if not number.isdigit():
            raise CommandError("Usage: /read BOARD [N]")
        post = store.get_post(board, int(number))
        if post is None:
            raise CommandError(f"{board} has no post {number}.")
        return [
            Reply((Span(f"#{post.number} {post.subject}", "bold"),)),
            Reply((Span(f"by {post.author}, {when(post.posted)}", "dim"),)),
            Reply(post.body),
        ]
    posts = store.list_posts(board)
    if not posts:
        return [Reply(f"{board} has no posts yet.")]
    return [Reply(f"{p.number:>4}  {p.author:<16} {when(p.posted)}  {p.subject}") for p in posts]


@registry.command("post", "/post BOARD SUBJECT", "Write a post; end the body with a lone '.'.",
                  heard=True)
def post(ctx: Context, args: str) -> Sequence[Effect]:
    store = _registered(ctx, "post")
    board, subject = split_first(args)
    if not board or not subject:
        raise CommandError("Usage: /post BOARD SUBJECT")
    if len(subject) > SUBJECT_MAX:
        raise CommandError(f"A subject is at most {SUBJECT_MAX} characters.")
    info = store.get_board(board)
    if info is None:
        raise CommandError(f"There is no board called {board}; /boards lists them.")
    if info.post_role == "sysop" and not ctx.sysop:
        raise CommandError(f"Only sysops post on {info.name}.")
    return [
        Reply((Span("Type the body; a line with a lone '.' ends it, a lone '~q' cancels.", "dim"),)),
        Ask("> ", partial(_body, info.name, subject, ())),
    ]


def _body(board: str, subject: str, lines: tuple[str, ...],
          ctx: Context, line: str) -> Sequence[Effect]:
    if line.strip() == "~q":
        return [Reply("Post cancelled.")]
    if line.strip() != ".":
        lines += (line,)
        if len(lines) > BODY_LINES or sum(map(len, lines)) > BODY_CHARS:
            raise CommandError(
                f"A post is at most {BODY_LINES} lines and {BODY_CHARS} characters; "
                "nothing was posted."
            )
        return [Ask("> ", partial(_body, board, subject, lines))]
    if not any(s.strip() for s in lines):
        return [Reply("Empty post; nothing was posted.")]
    number = _store(ctx).add_post(board, ctx.nick, subject, "\n".join(lines), ctx.now)
    return [Reply(f"Posted as {board} #{number}.")]


@registry.command("seen", "/seen NICK", "When a registered user was last on.")
def seen(ctx: Context, args: str) -> Sequence[Effect]:
    nick, _ = split_first(args)
    if not nick:
        raise CommandError("Usage: /seen NICK")
    online = ctx.hub.users.get(fold(nick))
    if online is not None:
        return [Reply(f"{online.nick} is online now, in {online.room}.")]
    account = _store(ctx).get_account(nick)
    if account is None:
        raise CommandError(f"There is no registered user called {nick}.")
    if account.last_seen is None:
        return [Reply(f"{account.nick} has never been on.")]
    return [Reply(f"{account.nick} was last on {when(account.last_seen)}.")]
