"""The index directory as Whoosh reads it: a segment is mapped and read without being copied.

Whoosh maps each segment file and hands out its parts as ``BufferFile(memoryview)``, and
``BufferFile`` wraps the view in ``io.BytesIO``, which *copies* it: every segment reader held a
private copy of the whole postings file (330 MB of heap per reader at 10k papers, once more for
each searcher open at the same time). ``Storage`` maps a segment itself and hands out parts of
the mapping as ``ViewBufferFile``, which reads straight from the view: only the bytes asked for
are copied. Everything goes through Whoosh's public storage interface (``open_file``); Whoosh's
classes are not changed.

Use ``Storage(folder).open_index()`` / ``.create_index(schema)`` instead of Whoosh's
``open_dir`` / ``create_in``.
"""
from __future__ import annotations

import errno
import io
import mmap
import os

from paperlens.core.index.whoosh import require

require()

from whoosh.filedb.filestore import FileStorage  # noqa: E402
from whoosh.filedb.structfile import BufferFile, StructFile  # noqa: E402

COMPOUND_EXT = ".seg"       # a whole segment (Whoosh's W3Segment.COMPOUND_EXT)


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


class ViewBufferFile(BufferFile):
    """A Whoosh ``BufferFile`` over a memoryview that reads from the view itself (``get``,
    ``subset`` and the file interface), never from a copy of it."""

    def __init__(self, view, name=None, onclose=None):
        StructFile.__init__(self, ViewFile(view), name=name, onclose=onclose)
        self.view = view
        self.label = name

    def subset(self, position, length, name=None):
        return ViewBufferFile(self.view[position:position + length], name=name or self.label)

    def get(self, position, length):
        return bytes(self.view[position:position + length])

    def close(self):
        StructFile.close(self)
        self.view = memoryview(b"")       # the mapping is freed once no part refers to it


class MappedFile(ViewBufferFile):
    """A whole segment file, mapped. Whoosh's compound storage reads its parts through
    ``subset`` (a file without ``fileno`` is not mapped a second time by Whoosh)."""

    def __init__(self, mapping: mmap.mmap, name=None):
        super().__init__(memoryview(mapping), name=name)
        self.mapping = mapping

    def close(self):
        super().close()
        mapping, self.mapping = self.mapping, None
        if mapping is not None:
            try:
                mapping.close()
            except BufferError:      # a part still in use: unmapped when its last view goes
                pass


class Storage(FileStorage):
    """Whoosh's file storage, with segments mapped and read without copies (see the module
    docstring)."""

    def open_file(self, name, **kwargs):
        if not name.endswith(COMPOUND_EXT) or kwargs:
            return super().open_file(name, **kwargs)
        with open(os.path.join(self.folder, name), "rb") as f:
            try:
                mapping = mmap.mmap(f.fileno(), 0, access=mmap.ACCESS_READ)
            except ValueError:        # an empty file cannot be mapped
                return super().open_file(name)
            except OSError as exc:
                if exc.errno != errno.ENOMEM:
                    raise
                return super().open_file(name)     # read as a file (Whoosh's SubFile parts)
        return MappedFile(mapping, name=name)
