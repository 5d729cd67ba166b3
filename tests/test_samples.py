"""The sample store: content-addressed, atomic, private, bounded."""

from __future__ import annotations

import hashlib
import os
import stat
from pathlib import Path

import pytest

from bbs.samples import SampleStore


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_kept_once_by_content_private_and_not_executable(tmp_path: Path) -> None:
    store = SampleStore(tmp_path / "downloads")
    data = b"\x7fELF" + bytes(100)
    first = store.keep(sha(data), data)
    assert first.path == str(tmp_path / "downloads" / sha(data)) and not first.duplicate
    assert Path(first.path).read_bytes() == data
    mode = os.stat(first.path).st_mode
    assert stat.S_IMODE(mode) == 0o600
    assert stat.S_IMODE(os.stat(tmp_path / "downloads").st_mode) == 0o700
    again = store.keep(sha(data), data)
    assert again.path == first.path and again.duplicate
    assert os.listdir(tmp_path / "downloads") == [sha(data)]  # no temporary file left


def test_bounded_by_count_and_bytes_counting_what_was_there(tmp_path: Path) -> None:
    directory = tmp_path / "downloads"
    SampleStore(directory).keep(sha(b"old"), b"old")
    store = SampleStore(directory, max_files=2, max_bytes=10)
    assert store.keep(sha(b"four"), b"four").path is not None
    full = store.keep(sha(b"x"), b"x")
    assert full.path is None and full.why == "the store holds 2 samples already"
    assert store.keep(sha(b"four"), b"four").duplicate  # one it has is still found
    roomy = SampleStore(directory, max_files=10, max_bytes=10)
    big = roomy.keep(sha(b"abcd"), b"abcd")
    assert big.path is None and big.why == "the store would exceed 10 bytes"
    assert sorted(os.listdir(directory)) == sorted([sha(b"old"), sha(b"four")])


def test_an_unwritable_directory_is_reported_not_raised(tmp_path: Path) -> None:
    (tmp_path / "downloads").write_text("a file where the directory should be")
    kept = SampleStore(tmp_path / "downloads").keep(sha(b"x"), b"x")
    assert kept.path is None and kept.why.startswith("it could not be written")


def test_only_sha256_names(tmp_path: Path) -> None:
    with pytest.raises(ValueError):
        SampleStore(tmp_path).keep("../../etc/passwd", b"x")
