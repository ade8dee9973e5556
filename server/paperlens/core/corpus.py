"""Walk paper folders and compare them with the manifest of what is indexed.

A file is re-parsed only when its content changed: mtime and size select candidates, the
content hash decides (a ``touch`` or an atomic rewrite with the same bytes costs a hash, no parse).
"""
from __future__ import annotations

import hashlib
import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path
from typing import Iterable

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


def _too_large(path: Path) -> int:
    """The size of a file the parsers refuse by its size alone (0 when it is not such a file):
    hashing it would read it all for nothing."""
    from paperlens.core.parse import MAX_TEXT_BYTES, PAPER_SUFFIXES

    kind = PAPER_SUFFIXES.get(Path(path).suffix.lower())
    if kind is None:
        return 0
    if kind == "pdf":
        from paperlens.core.parse.pdf import MAX_PDF_BYTES as limit
    else:
        limit = MAX_TEXT_BYTES
    size = os.stat(path).st_size
    return size if size > limit else 0


def file_sha1(path: Path) -> str:
    """sha1 of the file's bytes; a file too large to be parsed is not read (its digest stands for
    its size: it is refused again, cheaply, whenever it changes)."""
    oversize = _too_large(path)
    if oversize:
        return f"oversize:{oversize}"
    h = hashlib.sha1()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


NOT_PAPERS = {"readme", "changelog", "license", "licence", "contributing"}


def is_paper_file(name: str) -> bool:
    """A file that may hold papers: right suffix, not hidden, not a folder's README or the like."""
    p = Path(name)
    return (p.suffix.lower() in PAPER_SUFFIXES and not name.startswith((".", "~$"))
            and p.stem.lower() not in NOT_PAPERS)


def walk(folder: Path) -> tuple[dict[str, os.stat_result], list[tuple[str, str]]]:
    """Paper files under ``folder`` (relative posix paths -> stat), and (path, reason) skipped.

    Symlinked directories are not followed (no loops); hidden and tool folders are skipped.
    """
    found: dict[str, os.stat_result] = {}
    skipped: list[tuple[str, str]] = []

    def onerror(err: OSError) -> None:
        skipped.append((os.path.relpath(err.filename or str(folder), folder), f"cannot list: {err.strerror}"))

    for root, dirs, files in os.walk(folder, onerror=onerror, followlinks=False):
        dirs[:] = sorted(d for d in dirs if d not in SKIP_DIRS and not d.startswith("."))
        for name in sorted(files):
            if not is_paper_file(name):
                continue
            full = Path(root, name)
            rel = full.relative_to(folder).as_posix()
            try:
                st = full.stat()
            except OSError as exc:
                skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
                continue
            if not stat.S_ISREG(st.st_mode):     # a FIFO or device would block or never end
                skipped.append((rel, "not a regular file"))
                continue
            found[rel] = st
    return found, skipped


def diff(folder: Path, manifest: dict[str, FileState],
         only: Iterable[str] | None = None) -> tuple[ChangeSet, list[tuple[str, str]]]:
    """Compare the folder (or just the relative paths in ``only``) with the manifest."""
    changes = ChangeSet()
    if only is None:
        found, skipped = walk(folder)
        candidates = set(found) | set(manifest)
    else:
        found, skipped = {}, []
        candidates = set(only)
        for rel in candidates:
            full = folder / rel
            try:
                if is_paper_file(full.name) and full.exists():
                    st = full.stat()
                    if stat.S_ISREG(st.st_mode):
                        found[rel] = st
                    elif not stat.S_ISDIR(st.st_mode):
                        skipped.append((rel, "not a regular file"))
            except OSError as exc:
                skipped.append((rel, f"cannot read: {exc.strerror or exc}"))
    for rel in sorted(candidates):
        st = found.get(rel)
        old = manifest.get(rel)
        if st is None:
            if old is not None:
                changes.removed.append(rel)
            continue
        if old is not None and old.mtime_ns == st.st_mtime_ns and old.size == st.st_size:
            changes.unchanged += 1
            continue
        try:
            digest = file_sha1(folder / rel)
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
