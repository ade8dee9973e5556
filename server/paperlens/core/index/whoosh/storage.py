"""The index directory as Whoosh reads it: a segment is read with ``os.pread``, only the bytes
asked for, never mapped and never copied whole.

Whoosh maps each segment file and hands out its parts as ``BufferFile(memoryview)``, and
``BufferFile`` wraps the view in ``io.BytesIO``, which *copies* it: every segment reader held a
private copy of the whole postings file (330 MB of heap per reader at 10k papers). A mapping
read without copies still counts in the process's memory: every page a search touched (and
the neighbours the kernel maps with it) stayed in the server's RSS, ~100 MB of file-backed
pages at 10k papers after a few dozen searches, and a segment file truncated under the server
killed it with SIGBUS. ``Storage`` opens a segment as a ``PreadFile``: its parts read their
bytes with ``os.pread`` into short-lived ``bytes`` (the page cache keeps the file warm for
every process, outside this one's RSS), and a truncated file is an ``OSError``. Everything goes
through Whoosh's public storage interface (``open_file``); Whoosh's classes are not changed.

Use ``Storage(folder).open_index()`` / ``.create_index(schema)`` instead of Whoosh's
``open_dir`` / ``create_in``.
"""
from __future__ import annotations

import io
import os
import sys
import threading
from array import array

from paperlens.core.index.whoosh import require

require()

from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.filedb.structfile import StructFile  # noqa: E402

COMPOUND_EXT = ".seg"       # a whole segment (Whoosh's W3Segment.COMPOUND_EXT)
_LITTLE = sys.byteorder == "little"


class _Descriptor:
    """One open descriptor shared by a segment file's parts, closed with the last of them."""

    __slots__ = ("fd", "_refs", "_lock")

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self._refs = 0
        self._lock = threading.Lock()

    def acquire(self) -> None:
        with self._lock:
            if self.fd < 0:
                raise ValueError("read from a closed segment file")
            self._refs += 1

    def release(self) -> None:
        with self._lock:
            self._refs -= 1
            if self._refs == 0 and self.fd >= 0:
                fd, self.fd = self.fd, -1
                os.close(fd)

    def __del__(self) -> None:      # parts dropped without close(): the descriptor goes with them
        fd, self.fd = self.fd, -1
        if fd >= 0:
            try:
                os.close(fd)
            except OSError:
                pass


class PreadFile(StructFile):
    """Read-only bytes ``[base, base + length)`` of a file, read with ``os.pread``: what Whoosh's
    ``BufferFile`` is over a mapping, without the mapping. ``get``, ``get_array`` and ``subset``
    use no shared position; the stream methods keep one position per ``PreadFile`` *and per
    thread*: Whoosh reads a posting block by ``seek`` then ``read_int``/``read_pickle`` on the
    segment's one postings file, and two threads searching at once (a hover's passages, the
    word-rarity sample, the citation graph's re-reads, completion's background search) moved
    each other's position between the two (garbage pickles, zlib errors). A part (``subset``) shares the descriptor, which is
    closed with the last part."""

    def __init__(self, desc: _Descriptor, base: int, length: int, name=None, onclose=None) -> None:
        desc.acquire()
        self._desc = desc
        self._base = base
        self._length = length
        self._local = threading.local()     # the stream position, one per thread
        self._name = name
        self.onclose = onclose
        self.is_real = False        # no fileno: Whoosh reads parts through ``subset``
        self.is_closed = False
        self.file = self            # StructFile's helpers call self.file.read/seek/tell

    def __len__(self) -> int:
        return self._length

    @property
    def _pos(self) -> int:
        return getattr(self._local, "pos", 0)

    @_pos.setter
    def _pos(self, value: int) -> None:
        self._local.pos = value

    # -- positionless reads ------------------------------------------------------------------
    def get(self, position: int, length: int) -> bytes:
        if position < 0 or length < 0:
            raise ValueError("negative position or length")
        length = max(0, min(length, self._length - position))
        if not length:
            return b""
        desc = self._desc
        desc.acquire()          # held for the read: closed meanwhile, the descriptor's number
        try:                    # could name another file (a stale read gave garbage pickles)
            data = os.pread(desc.fd, length, self._base + position)
        finally:
            desc.release()
        if len(data) != length:
            raise OSError(f"segment file {self._name} is shorter than its index says (truncated?)")
        return data

    def get_array(self, position: int, typecode: str, length: int) -> array:
        a = array(typecode)
        a.frombytes(self.get(position, length * a.itemsize))
        if _LITTLE:
            a.byteswap()
        return a

    def subset(self, position: int, length: int, name=None) -> "PreadFile":
        return PreadFile(self._desc, self._base + position, length, name=name or self._name)

    # -- the stream interface ----------------------------------------------------------------
    def read(self, n: int = -1) -> bytes:
        if n is None or n < 0:
            n = self._length - self._pos
        data = self.get(self._pos, n) if self._pos < self._length else b""
        self._pos += len(data)
        return data

    def read_array(self, typecode: str, length: int) -> array:
        a = self.get_array(self._pos, typecode, length)
        self._pos += len(a) * a.itemsize
        return a

    def readline(self, limit: int = -1) -> bytes:
        out = bytearray()
        while limit is None or limit < 0 or len(out) < limit:
            want = 256 if limit is None or limit < 0 else min(256, limit - len(out))
            chunk = self.get(self._pos, want) if self._pos < self._length else b""
            if not chunk:
                break
            i = chunk.find(b"\n")
            if i >= 0:
                chunk = chunk[:i + 1]
            out += chunk
            self._pos += len(chunk)
            if i >= 0:
                break
        return bytes(out)

    def __iter__(self):
        while True:
            line = self.readline()
            if not line:
                return
            yield line

    def seek(self, pos: int, whence: int = io.SEEK_SET) -> int:
        if whence == io.SEEK_CUR:
            pos += self._pos
        elif whence == io.SEEK_END:
            pos += self._length
        if pos < 0:
            raise ValueError("negative seek position")
        self._pos = pos
        return pos

    def tell(self) -> int:
        return self._pos

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def writable(self) -> bool:
        return False

    def write(self, data) -> int:
        raise io.UnsupportedOperation("a segment file is read-only")

    def truncate(self, *args):
        raise io.UnsupportedOperation("a segment file is read-only")

    def flush(self) -> None:
        pass

    def close(self) -> None:
        if self.is_closed:
            return
        self.is_closed = True
        if self.onclose:
            self.onclose(self)
        self._desc.release()


def open_segment(folder: str, name: str) -> PreadFile:
    """A segment file (``.seg``) of ``folder``, read with ``os.pread``."""
    fd = os.open(os.path.join(folder, name), os.O_RDONLY | getattr(os, "O_CLOEXEC", 0))
    try:
        size = os.fstat(fd).st_size
        desc = _Descriptor(fd)
    except BaseException:
        os.close(fd)
        raise
    return PreadFile(desc, 0, size, name=name)


class Storage(FileStorage):
    """Whoosh's file storage, with segment files read through ``PreadFile`` (see the module
    docstring)."""

    def open_file(self, name, **kwargs):
        if not name.endswith(COMPOUND_EXT) or kwargs:
            return super().open_file(name, **kwargs)
        return open_segment(self.folder, name)
