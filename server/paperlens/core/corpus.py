"""Walk paper folders and compare them with the manifest of what is indexed.

A file is re-parsed only when its content changed: mtime and size select candidates, the
content hash decides (a ``touch`` or an atomic rewrite with the same bytes costs a hash, no parse).
The exception: a file skipped because its parse timed out or killed its worker is parsed again
at every update of the whole folder (once per update), as such a skip says nothing sure about
the file (issue 14: a loaded machine made two thirds of a library time out, for good).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

from paperlens.core.index.workers import retry_next_update
from paperlens.core.parse import PAPER_SUFFIXES

SKIP_DIRS = {".git", ".hg", ".svn", "node_modules", "__pycache__", ".venv", "venv", ".tox",
             ".mypy_cache", ".pytest_cache", ".paperlens-index"}


@dataclass
class FileState:
    mtime_ns: int
    size: int
    sha1: str = ""
    paper_ids: list[str] = field(default_factory=list)
    error: str = ""


@dataclass
class ChangeSet:
    added: list[str] = field(default_factory=list)      # relative paths to parse
    changed: list[str] = field(default_factory=list)    # relative paths to re-parse
    removed: list[str] = field(default_factory=list)    # relative paths gone from disk
    touched: dict[str, FileState] = field(default_factory=dict)  # same bytes, new mtime
    hashes: dict[str, str] = field(default_factory=dict)  # sha1 of files added/changed
    stats: dict[str, tuple[int, int]] = field(default_factory=dict)  # (mtime_ns, size) before parsing
    unchanged: int = 0

    @property
    def empty(self) -> bool:
        return not (self.added or self.changed or self.removed or self.touched)


def _limit(path) -> int:
    """The most bytes the parsers take of a paper file (0 when its suffix is not a paper's)."""
    from paperlens.core.parse import MAX_TEXT_BYTES, PAPER_SUFFIXES

    kind = PAPER_SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        return 0
    if kind == "pdf":
        from paperlens.core.parse.pdf import MAX_PDF_BYTES
        return MAX_PDF_BYTES
    return MAX_TEXT_BYTES


def _too_large(path: Path) -> int:
    """The size of a file the parsers refuse by its size alone (0 when it is not such a file):
    hashing it would read it all for nothing."""
    limit = _limit(path)
    if not limit:
        return 0
    size = os.stat(path).st_size
    return size if size > limit else 0


# -- what may be read: regular files inside the paper folder -----------------------------------

OUTSIDE = "symbolic link to a file outside the paper folder"
NOT_REGULAR = "not a regular file"


class NotAllowed(OSError):
    """A path that is not read: a link leading outside the paper folder(s), a FIFO, a device."""

    def __init__(self, reason: str):
        super().__init__(reason)
        self.reason = reason
        self.strerror = reason


def real_roots(folder, roots=None) -> tuple[str, ...]:
    """The folders a symbolic link may lead into, resolved: ``folder`` and ``roots``."""
    out = [os.path.realpath(folder)] if folder is not None else []
    out += [os.path.realpath(r) for r in (roots or ())]
    return tuple(dict.fromkeys(out))


def _within(real: str, roots: tuple[str, ...]) -> bool:
    return any(real == r or real.startswith(r.rstrip(os.sep) + os.sep) for r in roots)


def admit(path, roots: tuple[str, ...]) -> os.stat_result:
    """The stat of a paper file that may be read: a regular file, or a symbolic link to a
    regular file inside ``roots`` (resolved, see ``real_roots``). Raises NotAllowed (with its
    reason) or OSError (cannot stat: a dangling link, a vanished file)."""
    lst = os.lstat(path)
    if stat.S_ISLNK(lst.st_mode):
        if not _within(os.path.realpath(path), roots):
            raise NotAllowed(OUTSIDE)
        st = os.stat(path)
    else:
        st = lst
    if not stat.S_ISREG(st.st_mode):     # a FIFO or device would block or never end
        raise NotAllowed(NOT_REGULAR)
    return st


def read_regular(path, max_bytes: int, follow_links: bool = True) -> bytes:
    """The bytes of ``path`` if it is a regular file of at most ``max_bytes`` (else OSError or
    ValueError): opened without blocking, checked on the descriptor, so that a FIFO or a device
    in its place (or a link to one) is never read; with ``follow_links=False`` a symbolic link
    itself is refused (OSError)."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
    if not follow_links:
        flags |= getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            raise ValueError("not a regular file")
        if st.st_size > max_bytes:
            raise ValueError(f"{st.st_size} bytes, more than {max_bytes}")
        chunks, size = [], 0
        while True:
            chunk = os.read(fd, 1 << 20)
            if not chunk:
                return b"".join(chunks)
            size += len(chunk)
            if size > max_bytes:          # grew since fstat
                raise ValueError(f"more than {max_bytes} bytes")
            chunks.append(chunk)
    finally:
        os.close(fd)


def open_paper(path, roots=None):
    """A paper file opened for reading (binary), never blocking: a FIFO, a device or (with
    ``roots``, resolved folders) a file reached through a link leading outside them raises
    NotAllowed. The check is made on the file actually opened (its descriptor), so a link
    swapped in after the walk is caught too."""
    path = os.fspath(path)
    flags = (os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_CLOEXEC", 0)
             | getattr(os, "O_BINARY", 0))
    target = path
    if roots is not None:
        target = os.path.realpath(path)
        if not _within(target, roots):
            raise NotAllowed(OUTSIDE)
        flags |= getattr(os, "O_NOFOLLOW", 0)     # the resolved path's last part is no link
    fd = os.open(target, flags)
    try:
        if not stat.S_ISREG(os.fstat(fd).st_mode):
            raise NotAllowed(NOT_REGULAR)
        if roots is not None:
            try:                                  # where the descriptor really leads (Linux)
                actual = os.readlink(f"/proc/self/fd/{fd}")
            except OSError:
                actual = None
            if actual is not None and actual.startswith("/") and not _within(actual, roots):
                raise NotAllowed(OUTSIDE)
        return os.fdopen(fd, "rb")
    except BaseException:
        os.close(fd)
        raise


def file_sha1(path: Path, roots=None) -> str:
    """sha1 of the file's bytes; a file too large to be parsed is not read (its digest stands for
    its size: it is refused again, cheaply, whenever it changes). With ``roots`` (folders), a
    link leading outside them is refused (NotAllowed); a FIFO or device always is."""
    oversize = _too_large(path)
    if oversize:
        return f"oversize:{oversize}"
    limit = _limit(path) or None
    h = hashlib.sha1()
    n = 0
    with open_paper(path, None if roots is None else real_roots(None, roots)) as f:
        while True:
            block = f.read(1 << 20 if limit is None else min(1 << 20, limit + 1 - n))
            if not block:
                break
            n += len(block)
            if limit is not None and n > limit:     # it grew past the cap since it was stat'ed
                return f"oversize:{max(n, os.fstat(f.fileno()).st_size)}"
            h.update(block)
    return h.hexdigest()


NOT_PAPERS = {"readme", "changelog", "license", "licence", "contributing"}


def is_paper_file(name: str) -> bool:
    """A file that may hold papers: right suffix, not hidden, not a folder's README or the like."""
    p = Path(name)
    return (p.suffix.lower() in PAPER_SUFFIXES and not name.startswith((".", "~$"))
            and p.stem.lower() not in NOT_PAPERS)


def _skipped_dir(name: str) -> bool:
    return name in SKIP_DIRS or name.startswith(".")


def _walk_into(folder: Path, top: Path, roots: tuple[str, ...], found: dict[str, os.stat_result],
               skipped: list[tuple[str, str]]) -> None:
    """Paper files under ``top`` (``folder`` or a folder inside it), named relative to ``folder``."""

    def onerror(err: OSError) -> None:
        skipped.append((Path(os.path.relpath(err.filename or str(top), folder)).as_posix(),
                        f"cannot list: {err.strerror}"))

    for root, dirs, files in os.walk(top, onerror=onerror, followlinks=False):
        dirs[:] = sorted(d for d in dirs if not _skipped_dir(d))
        for name in sorted(files):
            if not is_paper_file(name):
                continue
            full = Path(root, name)
            rel = full.relative_to(folder).as_posix()
            try:
                found[rel] = admit(full, roots)
            except NotAllowed as exc:
                skipped.append((rel, exc.reason))
            except OSError as exc:
                skipped.append((rel, f"cannot read: {exc.strerror or exc}"))


def walk(folder: Path, roots: Iterable[Path] | None = None
         ) -> tuple[dict[str, os.stat_result], list[tuple[str, str]]]:
    """Paper files under ``folder`` (relative posix paths -> stat), and (path, reason) skipped.

    Symlinked directories are not followed (no loops); a symlinked file is taken only when it
    leads to a file inside ``folder`` (or one of ``roots``, other paper folders): a link to a
    credentials file is never read. Hidden and tool folders are skipped.
    """
    found: dict[str, os.stat_result] = {}
    skipped: list[tuple[str, str]] = []
    _walk_into(Path(folder), Path(folder), real_roots(folder, roots), found, skipped)
    return found, skipped


def _only_paths(folder: Path, only: Iterable[str]) -> tuple[list[str], list[str], bool]:
    """The watcher's paths, sorted out: (files, folders to look into, the whole folder?).

    Paths are relative to ``folder``; one that leaves it (absolute, ``..``), lies in a hidden or
    tool folder or goes through a symlinked folder (the walk follows none) is dropped."""
    files, dirs, whole = [], [], False
    real_folder = os.path.realpath(folder)
    for rel in only:
        p = Path(rel)
        if p.is_absolute() or ".." in p.parts:
            continue
        parts = [x for x in p.parts if x not in ("", ".")]
        if not parts:
            whole = True
            continue
        if any(_skipped_dir(x) for x in parts[:-1]):
            continue
        rel = "/".join(parts)
        full = Path(folder, rel)
        if os.path.realpath(full.parent) != os.path.join(real_folder, *parts[:-1]):
            continue                              # through a symlinked folder
        try:
            mode = os.lstat(full).st_mode
        except OSError:
            mode = None
        if mode is not None and stat.S_ISDIR(mode):
            if not _skipped_dir(parts[-1]):       # created or moved here: what is under it
                dirs.append(rel)
            continue
        if is_paper_file(parts[-1]):
            files.append(rel)
        if mode is None and not _skipped_dir(parts[-1]):
            dirs.append(rel)                      # gone: it may have been a folder
    return files, dirs, whole


def diff(folder: Path, manifest: dict[str, FileState],
         only: Iterable[str] | None = None,
         roots: Iterable[Path] | None = None) -> tuple[ChangeSet, list[tuple[str, str]]]:
    """Compare the folder (or just the relative paths in ``only``) with the manifest.

    A path in ``only`` that is (or was) a folder stands for the files under it: a folder
    created, moved or deleted is looked at alone, not the whole paper folder. ``roots``: as
    for ``walk``.

    An unchanged file whose manifest entry says its parse timed out or its worker died
    (``workers.retry_next_update``) is ``changed`` again: parsed once more by this update.
    Only the files looked at are: an update of a few paths (the watcher's) does not spend a
    parse budget on every such file of the folder each time something changes."""
    changes = ChangeSet()
    allowed = real_roots(folder, roots)
    whole = only is None
    if not whole:
        files, dirs, whole = _only_paths(Path(folder), only)
    if whole:
        found, skipped = walk(folder) if roots is None else walk(folder, roots)
        candidates = set(found) | set(manifest)
    else:
        found, skipped = {}, []
        candidates = set(files)
        for rel in files:
            try:
                found[rel] = admit(Path(folder, rel), allowed)
            except NotAllowed as exc:
                skipped.append((rel, exc.reason))
            except FileNotFoundError:
                pass
            except OSError as exc:
                skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
        if dirs:
            # outermost folders only: a moved tree reports each of its folders
            tops: list[str] = []
            for d in sorted(dirs):
                if not any(d.startswith(t + "/") for t in tops):
                    tops.append(d)
            prefixes = tuple(t + "/" for t in tops)
            candidates |= {rel for rel in manifest if rel.startswith(prefixes)}
            for top in tops:
                full = Path(folder, top)
                if full.is_dir() and not full.is_symlink():
                    _walk_into(Path(folder), full, allowed, found, skipped)
            candidates |= {rel for rel in found if rel.startswith(prefixes)}
    for rel in sorted(candidates):
        st = found.get(rel)
        old = manifest.get(rel)
        if st is None:
            if old is not None:
                changes.removed.append(rel)
            continue
        if (old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size
                and not retry_next_update(old.error)):
            changes.unchanged += 1
            continue
        try:
            digest = file_sha1(Path(folder) / rel, allowed)
        except NotAllowed as exc:
            skipped.append((rel, exc.reason))
            if old is not None:
                changes.removed.append(rel)
            continue
        except OSError as exc:
            skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
            continue
        if old is None:
            changes.added.append(rel)
        elif old.sha1 == digest and not old.error:
            changes.touched[rel] = FileState(st.st_mtime_ns, st.st_size, digest, old.paper_ids)
            continue
        else:
            changes.changed.append(rel)
        changes.hashes[rel] = digest
        changes.stats[rel] = (st.st_mtime_ns, st.st_size)
    return changes, skipped


def load_manifest(path: Path) -> dict[str, FileState]:
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    out = {}
    for rel, state in raw.get("files", {}).items():
        try:
            out[rel] = FileState(**state)
        except TypeError:
            continue
    return out


def manifest_chunks(files: dict[str, FileState], **extra):
    """The manifest's JSON, file by file (explicit dicts: dataclasses.asdict deep-copies, 0.4 s
    for 10k files; and no whole-manifest dict or string is built)."""
    dumps = json.JSONEncoder(ensure_ascii=False, separators=(",", ":")).encode
    head = dumps(extra)
    yield head[:-1] + ("," if extra else "") + '"files":{'
    for n, rel in enumerate(sorted(files)):
        st = files[rel]
        yield ("," if n else "") + dumps(rel) + ":" + dumps({
            "mtime_ns": st.mtime_ns, "size": st.size, "sha1": st.sha1, "paper_ids": st.paper_ids, "error": st.error})
    yield "}}"
