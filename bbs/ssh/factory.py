"""The SSH door's listener: a transport and a door for each connection.

Each connection gets L{DoorTransport} (the bounded transport of
L{bbs.ssh.transport}, which tells its door when it is up and gone) and an
L{SSHDoor}.  The server says it is an OpenSSH on Debian, as the machine the
fake shell shows is; only the fixed Diffie-Hellman groups and the curves
are offered (no moduli file: conch would log that for every connection).
"""

from __future__ import annotations

from collections.abc import Callable
from itertools import chain

from twisted.conch.ssh import _kex
from twisted.conch.ssh.factory import SSHFactory
from twisted.internet.interfaces import IAddress, IReactorTime
from twisted.logger import Logger
from twisted.python.failure import Failure

from bbs.door import DoorApplication
from bbs.sockets import address
from bbs.ssh.door import SSHDoor, SSHLimits
from bbs.ssh.hostkeys import HostKeys
from bbs.ssh.services import Connection, UserAuth
from bbs.ssh.transport import SSHTransport, log_limit
from bbs.turns import turn_end

VERSION = b"SSH-2.0-OpenSSH_9.2p1 Debian-2+deb12u3"  # what Debian 12's sshd says


class DoorTransport(SSHTransport):
    """The bounded transport, telling its door when the connection is up and gone."""

    door: SSHDoor

    def connectionMade(self) -> None:  # noqa: N802 (Twisted's names)
        super().connectionMade()
        self.door.host = address(self.transport.getHost())
        self.door.connected()

    def connectionLost(self, reason: Failure | None = None) -> None:  # noqa: N802
        super().connectionLost(reason)
        self.door.lost("connection lost")


class SSHDoorFactory(SSHFactory):
    """Makes the transport and the door of each SSH connection."""

    services = {b"ssh-userauth": UserAuth, b"ssh-connection": Connection}
    _log = Logger(observer=lambda event: None)

    def __init__(self, *, keys: HostKeys, admit: Callable[[str], str | None],
                 make_app: Callable[[], DoorApplication], clock: IReactorTime,
                 limits: SSHLimits) -> None:
        self.privateKeys = keys.private_keys()
        self.publicKeys = keys.public_keys()
        self.primes = None
        self.admit = admit
        self.make_app = make_app
        self.clock = clock
        self.limits = limits
        self.log_limit = log_limit(clock)  # one for the transports and the doors
        self._host_algorithms = list(chain.from_iterable(
            key.supportedSignatureAlgorithms() for key in self.privateKeys.values()))

    def buildProtocol(self, addr: IAddress) -> DoorTransport:  # noqa: N802
        transport = DoorTransport(clock=self.clock, handshake_timeout=self.limits.handshake)
        transport.factory = self
        transport.ourVersionString = VERSION
        transport.supportedPublicKeys = self._host_algorithms
        transport.supportedKeyExchanges = [
            kex for kex in transport.supportedKeyExchanges if not _kex.isDynamicPrimesGroup(kex)]
        door = SSHDoor(transport, admit=self.admit, make_app=self.make_app, peer=address(addr),
                       host=("", 0), clock=self.clock, turns=turn_end(self.clock),
                       limits=self.limits, log_limit=self.log_limit)
        transport.door = door
        transport.listener = door
        return transport
