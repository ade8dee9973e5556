"""A fix to whoosh-reloaded 2.7.5 that keeps reader memory independent of the index size.

Whoosh maps each segment file and hands its parts out as ``BufferFile(memoryview)``, but
``BufferFile`` wraps the view in ``io.BytesIO``, and ``BytesIO`` *copies* a memoryview. Every
segment reader therefore held a private copy of the whole postings file: 330 MB of heap per
reader at 10k papers, once more for each searcher that was open at the same time. The file
below reads straight from the view; only the bytes asked for are copied.
"""
from __future__ import annotations

import io

_applied = False


class ViewFile:
    """Read-only, seekable file over a memoryview (what BytesIO would be, without the copy)."""

    __slots__ = ("_view", "_pos", "closed")

    def __init__(self, view) -> None:
        self._view = memoryview(view).cast("B") if not isinstance(view, memoryview) else view
        self._pos = 0
        self.closed = False

    def read(self, n: int = -1) -> bytes:
        start = self._pos
        end = len(self._view) if n is None or n < 0 else min(start + n, len(self._view))
        self._pos = max(end, start)
        return bytes(self._view[start:end])

    def readline(self, limit: int = -1) -> bytes:
        view, start = self._view, self._pos
        end = len(view) if limit is None or limit < 0 else min(start + limit, len(view))
        pos = start
        while pos < end:
            if view[pos] == 10:
                pos += 1
                break
            pos += 1
        self._pos = pos
        return bytes(view[start:pos])

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
            pos += len(self._view)
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

    def flush(self) -> None:
        pass

    def close(self) -> None:
        self.closed = True
        self._view = memoryview(b"")


def apply() -> None:
    """Install the fix (idempotent)."""
    global _applied
    if _applied:
        return
    from whoosh.filedb import structfile

    def __init__(self, buf, name=None, onclose=None):
        self._buf = buf
        self._name = name
        self.file = ViewFile(buf)
        self.onclose = onclose
        self.is_real = False
        self.is_closed = False

    structfile.BufferFile.__init__ = __init__
    _applied = True
