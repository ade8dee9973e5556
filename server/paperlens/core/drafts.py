"""The user's own writing in the workspace (LaTeX, Markdown, Typst, Org): which keys it cites.

Used for "find references" of a paper. Files are re-read only when their mtime changes; the
editor's open buffers take precedence (the caller passes them in). A LaTeX draft is read with
the citation commands its project defines (``\\newcommand{\\longcite}[1]{\\fullcite{#1}}`` in
the preamble of the thesis a chapter belongs to): see :mod:`paperlens.core.project`.
"""
from __future__ import annotations

import logging
import os
import threading
from collections import deque
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core import citations, corpus
from paperlens.core.corpus import SKIP_DIRS
from paperlens.core.models import CitationKey
from paperlens.core.project import ProjectIndex

log = logging.getLogger(__name__)

DRAFT_SUFFIXES = {".tex", ".ltx", ".md", ".markdown", ".qmd", ".rmd", ".typ", ".org"}
MAX_DRAFT_BYTES = 5 * 1024 * 1024          # a larger draft is not read
MAX_WALK_ENTRIES = 100_000                 # directory entries one walk looks at (files and folders)
MAX_DRAFT_FILES = 5_000                    # drafts one walk lists
MAX_CACHED_CHARS = 256 * 1024 * 1024       # text of drafts kept in memory, all together
WALK_WAIT_S = 2.0                          # a request waits this long for a walk, then takes the last one
PSEUDO_DIRS = {"/proc", "/sys", "/dev", "/run"}   # never drafts there (a workspace folder of "/")


class DraftIndex:
    def __init__(self, folders: Iterable[str]):
        self.folders = [Path(f) for f in folders]
        # only regular files inside these (resolved) folders are read, whatever a link says
        self.roots = corpus.real_roots(None, self.folders)
        # the LaTeX projects of drafts (and of open documents: the language server shares it)
        self.projects = ProjectIndex(str(f) for f in self.folders)
        # path -> (stamp, text); path -> its keys, kept across edits (an edit of an open
        # draft rescans only around the change)
        self._texts: dict[str, tuple[tuple, str]] = {}
        self._cached_chars = 0
        self._scans: dict[str, citations.CitationScan] = {}
        self._lock = threading.Lock()          # requests may read the drafts from two threads
        # the folders are walked on a thread of their own, with a cap on what one walk looks
        # at (a workspace folder of "/" or of the home folder); requests take what is known
        self._walk_lock = threading.Lock()
        self._walk_done: Optional[threading.Event] = None
        self._listing: list[str] = []
        self.walks = 0                          # walks started (the tests count them)
        self.walk_entries = 0                   # directory entries the last walk looked at
        self.walk_truncated = False             # the last walk stopped at a cap
        self._warned = False

    def files(self, wait: float = WALK_WAIT_S) -> list[str]:
        """The drafts under the folders, as the latest walk found them: a walk is started
        (on its own thread) unless one is running; the caller waits for it at most ``wait``
        seconds, else answers with the last complete walk's list."""
        with self._walk_lock:
            done = self._walk_done
            if done is None or done.is_set():
                done = self._walk_done = threading.Event()
                self.walks += 1
                threading.Thread(target=self._walk, args=(done,), name="paperlens-drafts-walk",
                                 daemon=True).start()
        done.wait(wait)
        return self._listing

    def _walk(self, done: threading.Event) -> None:
        """Breadth first (the drafts near the top of a big tree first), no symbolic link to a
        folder followed, hidden and tool folders skipped, at most MAX_WALK_ENTRIES entries
        looked at and MAX_DRAFT_FILES drafts kept."""
        found: dict[str, None] = {}
        visited, truncated = 0, False
        tops = sorted({os.path.abspath(f) for f in self.folders})
        tops = [t for t in tops if not any(t != o and corpus._within(t, (o,)) for o in tops)]
        queue = deque(tops)
        try:
            while queue and not truncated:
                folder = queue.popleft()
                try:
                    entries = os.scandir(folder)
                except OSError:
                    continue
                with entries:
                    for entry in entries:
                        visited += 1
                        if visited > MAX_WALK_ENTRIES:
                            truncated = True
                            break
                        name = entry.name
                        try:
                            is_dir = entry.is_dir(follow_symlinks=False)
                        except OSError:
                            continue
                        if is_dir:
                            if not (name in SKIP_DIRS or name.startswith(".") or entry.path in PSEUDO_DIRS):
                                queue.append(entry.path)
                        elif os.path.splitext(name)[1].lower() in DRAFT_SUFFIXES:
                            found[entry.path] = None
                            if len(found) >= MAX_DRAFT_FILES:
                                truncated = True
                                break
        except Exception:   # noqa: BLE001 - the last complete list stays in use
            log.exception("could not look for drafts")
        finally:
            self._listing = sorted(found)
            self.walk_entries, self.walk_truncated = min(visited, MAX_WALK_ENTRIES), truncated
            if truncated and not self._warned:
                self._warned = True
                log.warning("drafts: stopped looking after %d files and folders under %s "
                            "(find references sees the drafts found so far)",
                            min(visited, MAX_WALK_ENTRIES), ", ".join(tops))
            done.set()

    def _text(self, path: str) -> Optional[str]:
        """A draft's text: a regular file inside the folders (a link leading outside them, a
        FIFO or a device is never read), of at most MAX_DRAFT_BYTES, decoded as UTF-8."""
        try:
            st = corpus.admit(path, self.roots)
        except OSError:            # NotAllowed too (a link leading outside, not a regular file)
            self._forget(path)
            return None
        stamp = (st.st_mtime_ns, st.st_size, st.st_ino)
        cached = self._texts.get(path)
        if cached is not None and cached[0] == stamp:
            return cached[1]
        self._forget(path)
        if st.st_size > MAX_DRAFT_BYTES or self._cached_chars + st.st_size > MAX_CACHED_CHARS:
            return None
        try:
            with corpus.open_paper(path, self.roots) as f:   # checked again on the descriptor
                data = f.read(MAX_DRAFT_BYTES + 1)
        except OSError:
            return None
        if len(data) > MAX_DRAFT_BYTES:     # it grew since it was looked at
            return None
        text = data.decode("utf-8", errors="replace")
        self._texts[path] = (stamp, text)
        self._cached_chars += len(text)
        return text

    def _forget(self, path: str) -> None:
        cached = self._texts.pop(path, None)
        if cached is not None:
            self._cached_chars -= len(cached[1])

    def macros(self, path: str, text: str, open_docs: Optional[dict[str, str]] = None) -> frozenset:
        """The user-defined citation commands of a LaTeX draft's project."""
        if citations.language_for(path) != "latex":
            return frozenset()
        return self.projects.project(path, text, open_docs).macros

    def citations(self, open_docs: Optional[dict[str, str]] = None) -> dict[str, tuple[str, list[CitationKey]]]:
        """{path: (text, keys)} for every draft that cites something."""
        open_docs = open_docs or {}
        out = {}
        with self._lock:
            paths = set(self.files()) | set(open_docs)
            for path in paths:
                text = open_docs[path] if path in open_docs else self._text(path)
                if text is None:
                    continue
                lang = citations.language_for(path)
                if lang is None:
                    continue
                macros = self.macros(path, text, open_docs)
                scan = self._scans.get(path)
                if scan is None or scan.language != lang:
                    scan = self._scans[path] = citations.CitationScan(lang)
                keys = scan.update(text, macros)
                if keys:
                    out[path] = (text, keys)
            for path in [p for p in self._scans if p not in paths]:
                del self._scans[path]               # deleted, or closed and outside the folders
            for path in [p for p in self._texts if p not in paths]:
                self._forget(path)
        return out

    def bibliographies(self, open_docs: Optional[dict[str, str]] = None) -> dict[str, list[str]]:
        """{document: the .bib files it uses, in order}: each LaTeX root document with its
        project's bibliography, and each other draft that names .bib files itself."""
        open_docs = open_docs or {}
        out: dict[str, list[str]] = {}
        for path in sorted(set(self.files()) | set(open_docs)):
            text = open_docs[path] if path in open_docs else self._text(path)
            lang = citations.language_for(path)
            if text is None or lang is None:
                continue
            if lang == "latex":
                if not any(word in text for word in ("\\documentclass", "\\begin{document}", "bib")):
                    continue        # a chapter: its root document, a draft too, answers for it
                project = self.projects.project(path, text, open_docs)
                if project.bib_files and project.root not in out:
                    out[project.root] = list(project.bib_files)
            else:
                names = citations.bibliography_files(text, lang)
                if names:
                    base = os.path.dirname(path)
                    out[path] = [os.path.normpath(os.path.join(base, n)) for n in names]
        return out
