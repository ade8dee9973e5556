"""The citation graph kept between sessions, in one file beside the library's indexes.

Building the graph of 10k papers takes a few CPU-seconds (every entry of every reference list
matched); a library that did not change since the last session need not pay them again. What
is kept is what :func:`paperlens.core.graph.update` starts from (a graph's basis): the library
papers the matcher read, and per paper with a reference list the digest of its list and the
library papers it names. A new session's first graph is an update from it: the lists whose
digest is as it was keep their matches (they are not even decoded), the others are matched
again, and papers added, removed or changed since are handled as any update handles them — so
the graph is the one a build from scratch gives, edge for edge.

The file says which code made it (a digest of the modules whose rules decide a match, those
reading a stored list included, and the versions of rapidfuzz, Unicode's tables and Python): a
file made by other code is not used. A file that cannot be read, is larger than the library
can need, or is not what it should be is reported and left aside (the graph is built, and the
file written again).

A session that reads a file marks it used (its access time; its modified time stays what the
write made it). Old files go when a session writes its own (:func:`remove_unused`): another set
of folders' file that no session read or wrote for :data:`UNUSED_DAYS` days (the folders were
changed since: nothing else would ever remove it, ~5 MB at 10k papers), and a temporary file a
write left a day ago (the process was killed). Nothing else in the index root is read, written
or removed: only regular files named as this module names them, never a link or a folder.
"""
from __future__ import annotations

import functools
import hashlib
import json
import logging
import os
import re
import stat
import sys
import tempfile
import time
import unicodedata
from itertools import chain
from pathlib import Path
from typing import TYPE_CHECKING, Iterable, Optional

from paperlens.core.graph import CitationGraph, basis_parts, resumed

if TYPE_CHECKING:
    from paperlens.core.index.base import SearchIndex
    from paperlens.core.references import LibraryEntry

log = logging.getLogger(__name__)

FORMAT = 1
# at most 16 MB and 2 KB a library paper (10k papers: ~5 MB); parsed JSON takes ~25x its size
MAX_BASE, MAX_PER_PAPER = 16 << 20, 2048
# the modules whose rules decide what a reference list's entry names (their source, hashed;
# a folder: its every module): the matcher's, and the stores' reading of a stored list (the
# digest of a list is its bytes). Paths in the paperlens package (not imported for this).
_RULES = ("core/graph.py", "core/identity.py", "core/models.py", "core/references",
          "core/index/base.py", "core/index/whoosh/store.py", "core/index/postgres/store.py")


UNUSED_DAYS = 90            # another set of folders' graph file unused this long is removed
_TMP_DAYS = 1              # a temporary file this old is a write that did not finish
_NAME = re.compile(r"graph-[0-9a-f]{12}\.json")                       # file_for's
_TMP_NAME = re.compile(r"graph-[0-9a-f]{12}\.json\.[a-z0-9_]{8}\.tmp")  # save's (tempfile.mkstemp)


class Damaged(ValueError):
    """The saved graph is not what this module writes."""


def file_for(root: Path, stores: Iterable["SearchIndex"]) -> Path:
    """The file of the graph of a library of these stores (folders in this order), in the index
    root ``root``."""
    key = "\n".join(_folders(stores))
    return root / f"graph-{hashlib.sha1(key.encode('utf-8', 'surrogatepass')).hexdigest()[:12]}.json"


@functools.lru_cache(maxsize=1)
def code_version() -> str:
    """A digest of the code that decides matches: the source of the modules in ``_RULES``,
    rapidfuzz's, Unicode's and Python's versions; "" when a source cannot be read (then no
    graph is saved or read)."""
    h = hashlib.sha1(f"{FORMAT}\n{_rapidfuzz_version()}\n{unicodedata.unidata_version}\n{sys.version}\n".encode())
    package = Path(__file__).resolve().parents[1]
    try:
        for name in _RULES:
            place = package / name
            for f in sorted(place.glob("*.py")) if place.is_dir() else [place]:
                h.update(name.encode())
                h.update(f.name.encode())
                h.update(f.read_bytes())
    except OSError as exc:
        log.info("the citation graph is not kept between sessions: its code cannot be read (%s)", exc)
        return ""
    return h.hexdigest()


def _rapidfuzz_version() -> str:
    try:
        import rapidfuzz
    except ImportError:        # pragma: no cover - a declared dependency
        return ""
    return getattr(rapidfuzz, "__version__", "")


def save(path: Path, graph: CitationGraph) -> bool:
    """Write what ``graph`` was computed from to ``path`` (atomically: a reader sees the old
    file or the new one), then remove the old files beside it (:func:`remove_unused`). False,
    with a message in the log, when it cannot be written."""
    parts = basis_parts(graph)
    code = code_version()
    if parts is None or not code:
        return False
    stores, entries, papers = parts
    data = {
        "format": FORMAT,
        "code": code,
        "stores": _folders(stores),
        "entries": [_row(e) for e in entries],
        "papers": [{pid: [v[0].hex(), list(v[1])] for pid, v in mine.items()} for mine in papers],
    }
    text = json.dumps(data, separators=(",", ":")).encode("utf-8", "surrogatepass")   # (json.dump: 5x slower)
    tmp = None
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        # a new file of its own (O_EXCL: never a link planted there, never another writer's)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=path.name + ".", suffix=".tmp")
        with open(fd, "wb") as f:
            f.write(text)
        os.replace(tmp, path)
    except OSError as exc:
        log.info("the citation graph could not be saved for the next session (%s: %s)",
                 path, exc.strerror or exc)
        if tmp is not None:
            try:
                os.unlink(tmp)
            except OSError:
                pass
        return False
    remove_unused(path)
    return True


def remove_unused(path: Path) -> list[str]:
    """Remove, beside the graph file ``path`` (kept), the graph files no session used for
    UNUSED_DAYS days and the temporary files of writes a day old (see the module's
    documentation); the names of those removed."""
    now, removed = time.time(), []
    try:
        entries = list(os.scandir(path.parent))
    except OSError:
        return removed
    for entry in entries:
        if entry.name == path.name:
            continue
        if _NAME.fullmatch(entry.name):
            days = UNUSED_DAYS
        elif _TMP_NAME.fullmatch(entry.name):
            days = _TMP_DAYS
        else:
            continue
        try:
            st = entry.stat(follow_symlinks=False)
            used = max(st.st_mtime, st.st_atime) if days == UNUSED_DAYS else st.st_mtime
            if not stat.S_ISREG(st.st_mode) or now - used < days * 86400:
                continue
            os.unlink(entry.path)
        except OSError:
            continue
        why = f"other folders' citation graph, unused for {days} days" if days == UNUSED_DAYS \
            else "a write of a citation graph that did not finish"
        log.info("removed %s (%s)", entry.path, why)
        removed.append(entry.name)
    return removed


def load(path: Path, stores: list["SearchIndex"], entries: list["LibraryEntry"]) -> Optional[CitationGraph]:
    """The graph saved in ``path`` for a library of ``stores`` whose papers are now ``entries``
    (:meth:`~paperlens.core.library.Library.matcher_entries`), as a graph to update from (its
    edges are laid out by the update), or None when there is none for them (no file, or one
    written by other code: said in the log) or it is damaged (said as a warning)."""
    try:
        raw = _read(path, MAX_BASE + MAX_PER_PAPER * len(entries))
    except FileNotFoundError:
        return None
    except OSError as exc:
        log.warning("the citation graph saved in %s cannot be read (%s); it is built again",
                    path, exc.strerror or exc)
        return None
    try:
        data = json.loads(raw)
        if not isinstance(data, dict):
            raise Damaged("not an object")
        code = code_version()
        if not code:
            return None
        if data.get("format") != FORMAT or data.get("code") != code:
            log.info("the citation graph saved in %s was made by another version; it is built again", path)
            return None
        if data.get("stores") != _folders(stores):
            log.info("the citation graph saved in %s is another library's; it is built again", path)
            return None
        rows = data.get("entries")
        if rows == [_row(e) for e in entries]:
            kept_entries = entries         # (the common case: the same list, no copy made)
        else:
            kept_entries = _entries(rows)
        ids = {e.id: e.id for e in kept_entries}
        papers = data.get("papers")
        if not isinstance(papers, list) or len(papers) != len(stores):
            raise Damaged("not one list of papers per folder")
        kept = [_papers(p, ids) for p in papers]
    except (ValueError, RecursionError) as exc:
        log.warning("the citation graph saved in %s is damaged (%s); it is built again", path,
                    exc if isinstance(exc, Damaged) else exc.__class__.__name__)
        return None
    return resumed(tuple(stores), kept_entries, kept)


def _folders(stores: Iterable["SearchIndex"]) -> list[str]:
    """What names a library's stores in the file (and its name): their index folders, in order."""
    return [str(s.index_dir) for s in stores]


def _read(path: Path, most: int) -> bytes:
    fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_NOFOLLOW", 0)
                 | getattr(os, "O_CLOEXEC", 0))
    with open(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode):
            raise OSError(0, "not a regular file")
        if st.st_size > most:
            raise OSError(0, f"larger than {most >> 20} MB")
        data = f.read(most + 1)
        _mark_used(path, f.fileno(), st.st_mtime_ns)
        return data


def _mark_used(path: Path, fd: int, modified_ns: int) -> None:
    """The file's access time set to now (what remove_unused reads: a noatime mount or Windows
    update none on a read), its modified time kept (the write's). Through the open file where
    the system can; else by its name, not followed (where it cannot: the file is the same
    unless replaced meanwhile, then the new one's times are set, which is harmless)."""
    times = (time.time_ns(), modified_ns)
    try:
        if os.utime in os.supports_fd:
            os.utime(fd, ns=times)
        elif os.utime in os.supports_follow_symlinks:
            os.utime(path, ns=times, follow_symlinks=False)
    except OSError:         # (not the owner, a read-only folder: the kernel's own update, if any)
        pass


def _row(e: "LibraryEntry") -> list:
    return [e.id, e.title, e.doi, e.arxiv, e.year, list(e.surnames)]


def _entries(rows) -> list:
    from paperlens.core.references import LibraryEntry

    if not isinstance(rows, list):
        raise Damaged("no library papers")
    out = []
    for row in rows:
        if not (isinstance(row, list) and len(row) == 6 and all(type(x) is str for x in row[:5])
                and isinstance(row[5], list) and all(type(x) is str for x in row[5])):
            raise Damaged("a library paper is not (id, title, DOI, arXiv id, year, surnames)")
        out.append(LibraryEntry(id=row[0], title=row[1], doi=row[2], arxiv=row[3], year=row[4],
                                surnames=row[5]))
    return out


def _papers(saved, ids: dict[str, str]) -> dict[str, tuple]:
    """``{paper id: (digest, matches, None, None)}`` of one store (the citing ids are the
    update's), each match a library paper of ``ids`` (its id string shared with it), labels
    shared."""
    if not isinstance(saved, dict):
        raise Damaged("a folder's papers are not an object")
    intern, cited = sys.intern, ids.__getitem__
    out: dict[str, tuple] = {}
    for pid, value in saved.items():
        if not (isinstance(value, list) and len(value) == 2 and type(value[0]) is str
                and isinstance(value[1], list) and len(value[1]) % 2 == 0):
            raise Damaged("a paper is not (digest, matches)")
        flat = value[1]
        if not all(type(x) is str for x in flat):
            raise Damaged("a match is not (label, library id)")
        try:
            matches = tuple(chain.from_iterable(zip(map(intern, flat[0::2]), map(cited, flat[1::2]))))
        except KeyError:
            raise Damaged("a match names a paper the library did not have") from None
        out[pid] = (bytes.fromhex(value[0]), matches, None, None)
    return out
