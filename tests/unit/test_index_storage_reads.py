"""Segment reads with os.pread (core/index/whoosh/storage.py) against a descriptor closed by
another thread: a part closed while a read is under way must not let the read use the
descriptor's number, which the system may already have given to another file."""
from __future__ import annotations

import os

import pytest

from paperlens.core.index.whoosh import storage


def _part(path, data: bytes):
    path.write_bytes(data)
    desc = storage._Descriptor(os.open(path, os.O_RDONLY))
    return storage.PreadFile(desc, 0, len(data), name=str(path))


def test_a_read_keeps_its_descriptor_open_while_another_thread_closes_the_file(tmp_path, monkeypatch):
    """The server's index reader is replaced after an update while hovers and the graph build
    still read through the old one. Its last part closed between a read looking up the
    descriptor and the pread: the number then named whatever file was opened next, and stored
    fields came back as garbage ('unsupported pickle protocol: 255', zlib errors in the 10k
    bench's server log). The close now waits for the read."""
    part = _part(tmp_path / "a.seg", b"the segment's own bytes")
    other = tmp_path / "other.bin"
    other.write_bytes(b"X" * 64)
    real_pread = os.pread
    opened = []

    def pread(fd, n, offset):
        if not opened:
            part.close()                         # another thread drops the last part...
            opened.append(os.open(other, os.O_RDONLY))   # ...and a file is opened: same number?
        return real_pread(fd, n, offset)

    monkeypatch.setattr(storage.os, "pread", pread)
    try:
        assert part.get(4, 7) == b"segment"
    finally:
        for fd in opened:
            os.close(fd)
    with pytest.raises(ValueError, match="closed segment file"):
        part.get(0, 3)                           # after the read, the file is closed for good


def test_a_closed_part_is_not_read(tmp_path):
    part = _part(tmp_path / "b.seg", b"0123456789")
    assert part.get(2, 3) == b"234"
    part.close()
    with pytest.raises(ValueError, match="closed segment file"):
        part.get(0, 3)
