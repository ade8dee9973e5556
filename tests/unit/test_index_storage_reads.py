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


def test_each_thread_reads_from_its_own_position(tmp_path):
    """Whoosh reads a posting block by seek() then read() on the segment's one postings file;
    a hover, the word-rarity sample and the graph's re-reads search at once. Thread A seeks,
    thread B seeks elsewhere and reads, then A reads: A reads where it sought."""
    import threading

    part = _part(tmp_path / "c.seg", b"0123456789abcdef")
    sought, b_done = threading.Event(), threading.Event()
    got = {}

    def a():
        part.seek(10)
        sought.set()
        b_done.wait()
        got["a"] = part.read(3)

    def b():
        sought.wait()
        part.seek(2)
        got["b"] = part.read(2)
        b_done.set()

    threads = [threading.Thread(target=a), threading.Thread(target=b)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert got == {"a": b"abc", "b": b"23"}
    assert part.tell() == 0          # this thread has not moved
