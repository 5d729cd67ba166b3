"""What one line of the fake shell produces: its output with the pauses the
device would have taken (L{ShellResult}), and the events worth logging
(L{ShellEvent}), which the honeypot writes as Cowrie's events."""

from __future__ import annotations

import attrs

from bbs.shell.payloads import Payload

_EVENT_IDS = {
    "command.input": "cowrie.command.input",
    "command.failed": "cowrie.command.failed",
    "file_download": "cowrie.session.file_download",
}


@attrs.frozen
class ShellEvent:
    """Something worth logging.  C{kind} is C{command.input} (a command ran),
    C{command.failed} (no such command or applet) or C{file_download}."""

    kind: str = attrs.field(validator=attrs.validators.in_(_EVENT_IDS))
    input: str | None = None
    url: str | None = None
    outfile: str | None = None
    protocol: str | None = None

    @property
    def eventid(self) -> str:
        """The Cowrie event id this becomes in the event log."""
        return _EVENT_IDS[self.kind]

    @property
    def message(self) -> str:
        if self.kind == "command.input":
            return f"CMD: {self.input}"
        if self.kind == "command.failed":
            return f"Command not found: {self.input}"
        return f"Download attempt of {self.url} to {self.outfile} (not fetched)"

    def fields(self) -> dict[str, str]:
        """The event-log fields, for C{make_event(self.eventid, self.fields(), ...)}."""
        return {k: v for k, v in attrs.asdict(self).items() if k != "kind" and v is not None}


@attrs.frozen
class ShellResult:
    """What one line produced.  C{output} holds bytes that are not UTF-8 (a
    binary C{cat}) as lone surrogates; C{data} is the exact bytes to send.
    C{pauses} are (offset in C{data}, seconds): before sending the bytes from
    that offset on, the device would have been busy that long."""

    output: str
    events: tuple[ShellEvent, ...]
    exit: bool
    pauses: tuple[tuple[int, float], ...] = ()
    payloads: tuple[Payload, ...] = ()

    @property
    def data(self) -> bytes:
        return self.output.encode("utf-8", "surrogateescape")

    @property
    def delay(self) -> float:
        """Seconds the whole line took on the device."""
        return sum(seconds for _, seconds in self.pauses)
