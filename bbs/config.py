"""Command-line options and the configuration value they become.

Every option is checked in L{Options.postOptions}, so a bad value is a usage
error with a clear message before anything listens.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable
from importlib import resources
from pathlib import Path
from typing import Any

import attrs
from twisted.internet import endpoints
from twisted.python import usage

from bbs.arches import ARCH_NAMES
from bbs.durations import DEFAULT_BAN, format_duration, parse_duration
from bbs.guard.addresses import parse_network
from bbs.guard.policy import BotPolicy
from bbs.guard.traps import RulesError, TrapRules
from bbs.twistd_log import log_path

# A backlog of 511 (Twisted's default is 50) so that a burst of bots does not
# overflow the accept queue and make people's connections wait for a retry.
DEFAULT_PORT = "tcp:2323:backlog=511"
# The browser door: a page and its WebSocket (--web none turns it off).
DEFAULT_WEB = "tcp:8080:backlog=511"
# The SSH door (--ssh none turns it off).
DEFAULT_SSH = "tcp:2222:backlog=511"


def default_motd() -> Path:
    return Path(str(resources.files("bbs") / "motd.txt"))


@attrs.frozen
class Config:
    ports: tuple[str, ...] = (DEFAULT_PORT,)
    web: tuple[str, ...] = (DEFAULT_WEB,)
    ssh: tuple[str, ...] = (DEFAULT_SSH,)
    # Reverse proxies whose X-Forwarded-For is believed, and the page
    # origins (besides the door's own) whose WebSocket connections are let in.
    web_proxies: tuple[str, ...] = ()
    web_origins: tuple[str, ...] = ()
    data: Path = Path("hfnjbbs-data")
    motd: Path = attrs.field(factory=default_motd)
    workers: int = 4
    sensor: str = "hfnjbbs"
    trust: tuple[str, ...] = ()
    bot_policy: BotPolicy = attrs.field(default=BotPolicy.BAN, converter=BotPolicy)
    traps: Path | None = None
    log_chat: bool = False
    per_address: int = 5
    max_connections: int = 2000
    connect_rate: int = 10
    login_timeout: float = 60.0
    idle_timeout: float = 3600.0
    flood_rate: float = 5.0
    flood_burst: int = 10
    max_rooms: int = 500
    ban_duration: float | None = parse_duration(DEFAULT_BAN)
    ipv6_ban_prefix: int = 128
    ipv6_limit_prefix: int = 64
    dead_peer_timeout: float = 300.0
    # twistd's own log: the file it would write (None: stdout, syslog, a
    # --logger), rotated at log_size bytes, log_keep old files kept.
    log_file: Path | None = None
    log_size: int = 1_000_000
    log_keep: int = 10
    shell_arch: str = "armv7l"
    shell_net_timeout: float = 5.0
    shell_host: str | None = None  # None: the sensor's own (bbs.shell.sensor)


def _number(kind: Callable[[str], Any], low: float, high: float) -> Callable[[str, str], Any]:
    def check(name: str, text: str) -> Any:
        try:
            value = kind(text)
        except ValueError:
            raise usage.UsageError(f"--{name} {text!r}: not a number")
        if not low <= value <= high:
            raise usage.UsageError(f"--{name} {value}: must be from {low:g} to {high:g}")
        return value

    return check


def _duration(name: str, text: str, *, permanent: bool = False) -> float | None:
    try:
        value = parse_duration(text)
    except ValueError as e:
        raise usage.UsageError(f"--{name} {text!r}: {e}")
    if value is None and not permanent:
        raise usage.UsageError(f"--{name}: give a length of time, not {text!r}")
    return value


def _within(name: str, value: float, low: float, high: float) -> float:
    """C{value} of option C{name} (a duration) if from C{low} to C{high} seconds."""
    if not low <= value <= high:
        raise usage.UsageError(
            f"--{name} {format_duration(value)}: must be from "
            f"{format_duration(low)} to {format_duration(high)}"
        )
    return value


_SIZE = re.compile(r"(\d{1,10})([KMG]?)B?", re.IGNORECASE)
_UNITS = {"": 1, "K": 1000, "M": 1000**2, "G": 1000**3}


def _size(name: str, text: str, low: int, high: int) -> int:
    """Bytes for a size like C{512K}, C{1M}, C{1G} or C{250000}."""
    match = _SIZE.fullmatch(text.strip())
    if match is None:
        raise usage.UsageError(f"--{name} {text!r}: not a size (like 512K, 1M or 1G)")
    value = int(match.group(1)) * _UNITS[match.group(2).upper()]
    if not low <= value <= high:
        raise usage.UsageError(f"--{name} {text}: must be from {low:,} to {high:,} bytes")
    return value


class Options(usage.Options):
    synopsis = "[options]"
    longdesc = "A multiuser telnet chat/BBS server that doubles as a bot honeypot."
    optFlags = [
        ["log-chat", None, "Also log chat lines in the event log (off by default)."],
    ]
    optParameters = [
        ["data", "d", "hfnjbbs-data", "Data directory (created if missing)."],
        ["motd", "m", None, "Message of the day file (default: the shipped motd.txt)."],
        ["workers", "w", "4", "Worker threads for commands that block: database, hashing (1-64)."],
        ["sensor", None, "hfnjbbs", "Sensor name written into every event."],
        ["bot-policy", None, "ban", "What to do with a trapped bot: ban, shell or log."],
        ["traps", None, None, "Bot trap rules file (default: the shipped rules)."],
        ["max-per-address", None, "5", "Connections at once from one address."],
        ["max-connections", None, "2000", "Connections at once in total."],
        ["connect-rate", None, "10", "New connections per address per 10 seconds."],
        ["login-timeout", None, "60s", "Close a connection that has not logged in by then."],
        ["idle-timeout", None, "1h", "Disconnect a user idle this long (warned first)."],
        ["dead-peer-timeout", None, "5m",
         "Drop a connection whose peer acknowledges nothing for this long (1s-1h)."],
        ["flood-rate", None, "5", "Lines per second a user may keep up."],
        ["flood-burst", None, "10", "Lines a user may send at once."],
        ["max-rooms", None, "500", "Rooms open at once; joining a new one past that is refused."],
        ["ban-duration", None, DEFAULT_BAN, "Default length of /ban (or perm)."],
        ["ipv6-ban-prefix", None, "128", "Widen IPv6 address bans to this prefix (e.g. 64)."],
        ["ipv6-limit-prefix", None, "64",
         "Count IPv6 clients by this prefix for per-address connection limits (128: each address)."],
        ["shell-arch", None, "armv7l", "Processor the fake shell claims to have."],
        ["shell-net-timeout", None, "5s",
         "How long the fake shell's downloads take to fail, as from a silent server (1s-60s)."],
        ["logfile-size", None, "1M",
         "Rotate twistd's log file (--logfile, twistd.log) at this size (10K-1G)."],
        ["logfile-keep", None, "10", "Old twistd log files kept (1-1000)."],
    ]

    def __init__(self) -> None:
        super().__init__()
        self["ports"] = []
        self["trust"] = []
        self["web"] = []
        self["ssh"] = []
        self["web-proxy"] = []
        self["web-origin"] = []

    def opt_port(self, endpoint: str) -> None:
        """Listen on a Twisted endpoint string (repeatable; default tcp:2323)."""
        from twisted.internet import reactor

        try:
            endpoints.serverFromString(reactor, endpoint)
        except (ValueError, TypeError, KeyError) as e:
            raise usage.UsageError(f"--port {endpoint!r}: not a valid endpoint ({e})")
        self["ports"].append(endpoint)

    opt_p = opt_port

    def opt_web(self, endpoint: str) -> None:
        """Serve the browser door (a page and its WebSocket) on a Twisted
        endpoint string (repeatable; default tcp:8080; none: no browser door)."""
        self._door_endpoint("web", endpoint)

    def opt_ssh(self, endpoint: str) -> None:
        """Serve the SSH door on a Twisted endpoint string (repeatable;
        default tcp:2222; none: no SSH door)."""
        self._door_endpoint("ssh", endpoint)

    def _door_endpoint(self, name: str, endpoint: str) -> None:
        if endpoint != "none":
            self.opt_port(endpoint)
            self["ports"].pop()  # checked as a port is; it is not one
        self[name].append(endpoint)

    def opt_web_proxy(self, network: str) -> None:
        """A reverse proxy (CIDR) whose X-Forwarded-For names the browser's
        address (repeatable); from anyone else the header is ignored."""
        try:
            self["web-proxy"].append(str(parse_network(network)))
        except ValueError as e:
            raise usage.UsageError(f"--web-proxy {network!r}: {e}")

    def opt_web_origin(self, origin: str) -> None:
        """Also let in WebSocket connections from pages of this origin, like
        https://chat.example.org (repeatable); the door's own page always is."""
        if not re.fullmatch(r"https?://[A-Za-z0-9.\-\[\]:]+", origin):
            raise usage.UsageError(f"--web-origin {origin!r}: not an origin like https://example.org")
        self["web-origin"].append(origin.lower())

    def opt_trust(self, network: str) -> None:
        """Exempt a network (CIDR) from limits, traps and bans (repeatable)."""
        try:
            self["trust"].append(str(parse_network(network)))
        except ValueError as e:
            raise usage.UsageError(f"--trust {network!r}: {e}")

    def postOptions(self) -> None:
        self.config = Config(
            ports=tuple(self["ports"]) or (DEFAULT_PORT,),
            web=self._door("web", DEFAULT_WEB),
            ssh=self._door("ssh", DEFAULT_SSH),
            web_proxies=tuple(self["web-proxy"]),
            web_origins=tuple(self["web-origin"]),
            data=self._data(),
            motd=self._motd(),
            workers=_number(int, 1, 64)("workers", self["workers"]),
            sensor=self["sensor"],
            trust=tuple(self["trust"]),
            bot_policy=self._policy(),
            traps=self._traps(),
            log_chat=bool(self["log-chat"]),
            per_address=_number(int, 1, 10_000)("max-per-address", self["max-per-address"]),
            max_connections=_number(int, 1, 1_000_000)("max-connections", self["max-connections"]),
            connect_rate=_number(int, 1, 1_000_000)("connect-rate", self["connect-rate"]),
            login_timeout=_duration("login-timeout", self["login-timeout"]),
            idle_timeout=_duration("idle-timeout", self["idle-timeout"]),
            dead_peer_timeout=_within(
                "dead-peer-timeout", _duration("dead-peer-timeout", self["dead-peer-timeout"]),
                1.0, 3600.0,
            ),
            flood_rate=_number(float, 0.1, 1000)("flood-rate", self["flood-rate"]),
            flood_burst=_number(int, 1, 10_000)("flood-burst", self["flood-burst"]),
            max_rooms=_number(int, 1, 100_000)("max-rooms", self["max-rooms"]),
            ban_duration=_duration("ban-duration", self["ban-duration"], permanent=True),
            ipv6_ban_prefix=_number(int, 16, 128)("ipv6-ban-prefix", self["ipv6-ban-prefix"]),
            ipv6_limit_prefix=_number(int, 16, 128)("ipv6-limit-prefix", self["ipv6-limit-prefix"]),
            shell_arch=self._arch(),
            shell_net_timeout=_within(
                "shell-net-timeout", _duration("shell-net-timeout", self["shell-net-timeout"]),
                1.0, 60.0,
            ),
            log_file=log_path(getattr(self, "parent", None) or {}),
            log_size=_size("logfile-size", self["logfile-size"], 10_000, 1_000_000_000),
            log_keep=_number(int, 1, 1000)("logfile-keep", self["logfile-keep"]),
        )

    def _door(self, name: str, default: str) -> tuple[str, ...]:
        """A door's endpoints: those given, its default, or none."""
        given = self[name]
        if "none" in given:
            if len(given) > 1:
                raise usage.UsageError(f"--{name} none: no other --{name} may be given with it")
            return ()
        return tuple(given) or (default,)

    def _data(self) -> Path:
        data = Path(self["data"])
        try:
            data.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise usage.UsageError(f"--data {str(data)!r}: cannot create it ({e})")
        if not os.access(data, os.W_OK | os.X_OK):
            raise usage.UsageError(f"--data {str(data)!r}: not writable")
        return data

    def _motd(self) -> Path:
        motd = Path(self["motd"]) if self["motd"] else default_motd()
        try:
            motd.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as e:
            raise usage.UsageError(f"--motd {str(motd)!r}: cannot read it ({e})")
        return motd

    def _policy(self) -> BotPolicy:
        try:
            return BotPolicy.parse(self["bot-policy"])
        except ValueError as e:
            raise usage.UsageError(f"--bot-policy {e}")

    def _traps(self) -> Path | None:
        if self["traps"] is None:
            return None
        try:
            TrapRules.load(self["traps"])
        except RulesError as e:
            raise usage.UsageError(f"--traps: {e}")
        return Path(self["traps"])

    def _arch(self) -> str:
        if self["shell-arch"] not in ARCH_NAMES:
            raise usage.UsageError(
                f"--shell-arch {self['shell-arch']!r}: choose one of {', '.join(ARCH_NAMES)}"
            )
        return self["shell-arch"]
