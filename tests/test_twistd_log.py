"""twistd's own log: which file, bounded how, handed to twistd how."""

from __future__ import annotations

import os
import signal
from pathlib import Path

import pytest
from twisted.application.service import Application
from twisted.logger import ILogObserver, LogLevel, textFileLogObserver
from twisted.python import usage
from twisted.scripts._twistd_unix import ServerOptions

from bbs import twistd_log
from bbs.config import Options
from bbs.service import InOrder


@pytest.mark.parametrize("options, expected", [
    ({}, "twistd.log"),  # a daemon without --logfile
    ({"logfile": "logs/bbs.log"}, "logs/bbs.log"),
    ({"logfile": "bbs.log", "nodaemon": True}, "bbs.log"),
    ({"nodaemon": True}, None),  # twistd -n: standard output
    ({"logfile": "-", "nodaemon": True}, None),
    ({"syslog": True}, None),
    ({"logger": "mypackage.observer"}, None),
])
def test_the_bounded_file_is_the_one_twistd_would_log_to(options, expected, tmp_path,
                                                          monkeypatch):
    monkeypatch.chdir(tmp_path)
    path = twistd_log.log_path(options)
    assert path == (None if expected is None else tmp_path / expected)


def _write(log_file, lines: int) -> None:
    write = textFileLogObserver(log_file)
    for n in range(lines):
        write({"log_format": "line {n} of a busy day " + "x" * 60, "n": n,
               "log_level": LogLevel.info, "log_namespace": "test", "log_time": 0.0})
    log_file.close()


def test_a_busy_log_rotates_and_keeps_only_so_many_files(tmp_path):
    log_file = twistd_log.bounded_log(tmp_path / "twistd.log", size=10_000, keep=3)
    _write(log_file, 2000)  # about 200 KB
    assert sorted(os.listdir(tmp_path)) == [
        "twistd.log", "twistd.log.1", "twistd.log.2", "twistd.log.3",
    ]
    line = max(len(text) for text in (tmp_path / "twistd.log.1").read_text().splitlines())
    for name in os.listdir(tmp_path):
        assert (tmp_path / name).stat().st_size <= 10_000 + line + 1
    # The newest lines are in the current file.
    assert "line 1999 of" in (tmp_path / "twistd.log").read_text()


def test_old_files_beyond_the_bound_go_at_the_next_rotation(tmp_path):
    for n in range(1, 8):  # left by a twistd that kept everything
        (tmp_path / f"twistd.log.{n}").write_text("old\n")
    _write(twistd_log.bounded_log(tmp_path / "twistd.log", size=10_000, keep=2), 200)
    assert sorted(os.listdir(tmp_path)) == ["twistd.log", "twistd.log.1", "twistd.log.2"]


@pytest.fixture
def sigusr1():
    before = signal.getsignal(signal.SIGUSR1)
    yield
    signal.signal(signal.SIGUSR1, before)


def test_sigusr1_rotates_as_with_twistds_own_file(tmp_path, sigusr1):
    signal.signal(signal.SIGUSR1, signal.SIG_DFL)
    twistd_log.observer(twistd_log.bounded_log(tmp_path / "a.log", 10_000, 2))
    assert callable(signal.getsignal(signal.SIGUSR1))
    taken = signal.getsignal(signal.SIGUSR1)
    twistd_log.observer(twistd_log.bounded_log(tmp_path / "b.log", 10_000, 2))
    assert signal.getsignal(signal.SIGUSR1) is taken  # a handler already there stays


def test_the_observer_is_handed_to_twistds_application_unless_it_has_one():
    def mine(event):
        pass

    def theirs(event):
        pass

    application = Application("hfnjbbs")
    top = InOrder()
    top.log_observer = mine
    top.setServiceParent(application)
    assert application.getComponent(ILogObserver) is mine
    given = Application("hfnjbbs")
    given.setComponent(ILogObserver, theirs)
    other = InOrder()
    other.log_observer = mine
    other.setServiceParent(given)
    assert given.getComponent(ILogObserver) is theirs
    plain = Application("hfnjbbs")
    InOrder().setServiceParent(plain)
    assert plain.getComponent(ILogObserver) is None


def _twistd(tmp_path: Path, *args: str):
    options = ServerOptions()
    options.parseOptions([*args, "hfnjbbs", "--data", str(tmp_path / "data"),
                          "--logfile-size", "64K", "--logfile-keep", "4"])
    return options.subOptions.config


def test_twistds_options_decide_the_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    config = _twistd(tmp_path, "--logfile", "bbs.log")
    assert (config.log_file, config.log_size, config.log_keep) == (tmp_path / "bbs.log", 64_000, 4)
    assert _twistd(tmp_path).log_file == tmp_path / "twistd.log"
    assert _twistd(tmp_path, "-n").log_file is None


@pytest.mark.parametrize("option, value, problem", [
    ("--logfile-size", "9K", "must be from 10,000 to 1,000,000,000 bytes"),
    ("--logfile-size", "2G", "must be from"),
    ("--logfile-size", "lots", "not a size"),
    ("--logfile-keep", "0", "must be from 1 to 1000"),
])
def test_bad_log_bounds_are_usage_errors(tmp_path, option, value, problem):
    with pytest.raises(usage.UsageError, match=f"{option}.*{problem}"):
        Options().parseOptions(["--data", str(tmp_path / "data"), option, value])
