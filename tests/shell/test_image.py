"""The base image every shell starts from: shared, and true to its processor."""

from __future__ import annotations

from bbs.shell.applets.programs import layout
from bbs.shell.image import build_image
from bbs.shell.processors import ARCHES
from bbs.shell.sensor import Sensor


def test_base_image_is_shared_and_consistent() -> None:
    a = build_image(ARCHES["armv7l"], Sensor.derive("t", "r"), layout())
    assert a is build_image(ARCHES["armv7l"], Sensor.derive("t", "r"), layout())
    assert a.nodes["/bin/sh"].target == "busybox"
    assert a.nodes["/usr/bin/wget"].target == "../../bin/busybox"
    assert a.nodes["/etc/hostname"].data == b"r\n"
    for arch in ARCHES.values():
        image = build_image(arch, Sensor.derive("t", "r"), layout())
        assert arch.runs(image.nodes["/bin/busybox"].data)
        assert image.nodes["/proc/cpuinfo"].data.decode() == arch.cpuinfo
