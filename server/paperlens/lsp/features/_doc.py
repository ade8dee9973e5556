"""What a request may read of a file the editor has not opened: a regular file inside the
configured folders (symlinks and ``..`` resolved), at most a size cap, never a FIFO or a device."""
from __future__ import annotations

import os
import stat
from dataclasses import dataclass
from pathlib import Path
from typing import Iterable, Optional

MAX_FILE_BYTES = 20_000_000          # a file read from disk (not open in the editor)


@dataclass(frozen=True)
class Document:
    """A document's text as the features see it (``source`` and ``language_id`` as pygls
    names them, so code written for pygls' documents reads it unchanged)."""
    uri: str
    source: str
    language_id: Optional[str] = None
    version: Optional[int] = None


def _inside(path: str, folders: Iterable[str]) -> bool:
    for folder in folders:
        if path == folder or path.startswith(folder.rstrip(os.sep) + os.sep):
            return True
    return False


def read_confined(path: Path, folders: Iterable[str], max_bytes: int = MAX_FILE_BYTES) -> Optional[str]:
    """The text of the regular file at ``path`` when it is inside one of ``folders`` (real
    paths) once every symlink is resolved and holds at most ``max_bytes``; else None.

    Never blocks and never reads what is not a regular file: a FIFO, a device or a socket is
    refused by ``stat`` before it is opened, and the file is opened without following a
    symlink and without blocking, then checked again with ``fstat``.  At most the size
    ``stat`` gave is read (a file of /proc says 0 bytes and gives nothing)."""
    try:
        if not path.is_absolute():
            return None
        real = os.path.realpath(path)
        if not _inside(real, folders):
            return None
        st = os.stat(real)
        if not stat.S_ISREG(st.st_mode) or st.st_size > max_bytes:
            return None
        flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0) \
            | getattr(os, "O_CLOEXEC", 0)
        fd = os.open(real, flags)
    except (OSError, ValueError):          # missing, unreadable, a NUL in the path
        return None
    try:
        st2 = os.fstat(fd)
        if not stat.S_ISREG(st2.st_mode) or (st2.st_dev, st2.st_ino) != (st.st_dev, st.st_ino) \
                or st2.st_size > max_bytes:
            return None
        chunks, left = [], st2.st_size
        while left > 0:
            chunk = os.read(fd, min(left, 1 << 20))
            if not chunk:
                break
            chunks.append(chunk)
            left -= len(chunk)
        return b"".join(chunks).decode("utf-8", errors="replace")
    except OSError:
        return None
    finally:
        os.close(fd)
