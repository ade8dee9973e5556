"""A private, consistent copy of a SQLite database that another process holds (Zotero).

Zotero keeps ``zotero.sqlite`` open in WAL mode with an exclusive lock: no other process can
open it, and ``immutable=1`` would skip the WAL and miss the recent writes. So the file and its
``-wal`` (never the ``-shm``: it is the holder's index, rebuilt from the WAL) are copied into a
private folder, and the copy is opened read-only: SQLite replays the WAL into the view.
Zotero's files are only read (plain ``open(..., "rb")``, no SQLite lock, nothing created
beside them).

A copy taken while Zotero writes is consistent when Zotero did not checkpoint in between: a
half-written last WAL frame is ignored by SQLite (frames are checksummed and only committed
transactions count), but a checkpoint rewrites the main file and then restarts the WAL, so a
main file copied before it and a WAL copied after would not fit. Hence: the main file's
identity (size, mtime, inode) and the WAL header (its salts change at each restart) are read
before and after the copies, and the copy is retried when they differ, or when the copy does
not open as a database. The main file is copied again only when it changed; between
checkpoints only the WAL (a few MB at most) is copied.
"""
from __future__ import annotations

import logging
import os
import shutil
import sqlite3
import stat
import tempfile
import weakref
from pathlib import Path
from typing import Callable, Optional

log = logging.getLogger(__name__)

ATTEMPTS = 6
WAL_HEADER = 32
MAX_DB_BYTES = 8 * 1024 ** 3          # a larger file is not copied (the message says so)


class SnapshotError(Exception):
    """The database could not be copied consistently (the message says why, for the user)."""


def _identity(path: Path) -> Optional[tuple]:
    try:
        st = os.stat(path)
    except FileNotFoundError:
        return None
    if not stat.S_ISREG(st.st_mode):
        raise SnapshotError(f"{path} is not a regular file")
    return (st.st_size, st.st_mtime_ns, st.st_ino)


def _wal_header(path: Path) -> Optional[bytes]:
    try:
        with open(path, "rb") as f:
            return f.read(WAL_HEADER)
    except FileNotFoundError:
        return None


def _copy(src: Path, dst: Path) -> None:
    with open(src, "rb") as fin, open(dst, "wb") as fout:
        shutil.copyfileobj(fin, fout, 1 << 20)


class Snapshot:
    """Copies of ``source`` (and its WAL) in a private folder, refreshed on demand.

    ``connect()`` refreshes the copy and returns a read-only connection to it; the caller closes
    it before the next ``connect()``. ``close()`` deletes the folder (also done when the
    object is collected). The folder is made in ``workdir`` (default: the system's temporary
    folder, which may be in memory: give a folder on disk for large databases). ``on_copied`` is called between the main file's copy and the WAL's
    (tests use it to write in the middle of a copy)."""

    def __init__(self, source: Path, name: str = "db.sqlite", workdir: Optional[Path] = None):
        self.source = Path(source)
        if workdir is not None:
            Path(workdir).mkdir(parents=True, exist_ok=True)
        self.folder = Path(tempfile.mkdtemp(prefix="paperlens-zotero-", dir=workdir))
        os.chmod(self.folder, 0o700)
        self.copy = self.folder / name
        self._main_identity: Optional[tuple] = None
        self._copied_state: Optional[tuple] = None   # _source_state() of the last good copy
        self.attempts = 0                      # attempts the last connect() needed
        self.on_copied: Optional[Callable[[], None]] = None
        self._finalizer = weakref.finalize(self, shutil.rmtree, str(self.folder), True)

    def close(self) -> None:
        self._finalizer()

    def _source_state(self) -> tuple:
        wal = self.source.with_name(self.source.name + "-wal")
        return (_identity(self.source), _identity(wal), _wal_header(wal))

    def unchanged(self) -> bool:
        """Whether the source and its WAL are as they were at the last copy (a few stats): the
        copy would be the same, nothing needs reading."""
        return self._copied_state is not None and self._finalizer.alive and \
            self._source_state() == self._copied_state

    def _side(self, suffix: str) -> Path:
        return self.copy.with_name(self.copy.name + suffix)

    def connect(self) -> sqlite3.Connection:
        if not self._finalizer.alive:
            raise SnapshotError("the private copy was closed")
        wal = self.source.with_name(self.source.name + "-wal")
        last_error = ""
        self._copied_state = None
        for attempt in range(1, ATTEMPTS + 1):
            self.attempts = attempt
            state = self._source_state()
            before = (state[0], state[2])
            if before[0] is None:
                raise SnapshotError(f"{self.source} does not exist")
            if before[0][0] > MAX_DB_BYTES:
                raise SnapshotError(f"{self.source} is larger than {MAX_DB_BYTES // 1024 ** 3} GB; not copied")
            for suffix in ("-wal", "-shm", "-journal"):
                self._side(suffix).unlink(missing_ok=True)
            if before[0] != self._main_identity or not self.copy.exists():
                self._main_identity = None
                _copy(self.source, self.copy)
            if self.on_copied is not None:
                self.on_copied()
            if before[1] is not None:
                try:
                    _copy(wal, self._side("-wal"))
                except FileNotFoundError:      # checkpointed and removed meanwhile: retry
                    pass
            after = (_identity(self.source), _wal_header(wal))
            copied_header = _wal_header(self._side("-wal"))
            if after != before or copied_header != before[1]:
                last_error = "the database changed while it was copied"
                self._main_identity = None
                continue
            self._main_identity = before[0]
            try:
                conn = sqlite3.connect(f"file:{self.copy}?mode=ro", uri=True, check_same_thread=False)
                conn.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
                self._copied_state = state
                return conn
            except sqlite3.DatabaseError as exc:
                last_error = str(exc)
                self._main_identity = None
                try:
                    conn.close()
                except Exception:
                    pass
                continue
        raise SnapshotError(f"could not take a consistent copy of {self.source} "
                            f"after {ATTEMPTS} attempts: {last_error}")
