"""The user's own writing in the workspace (LaTeX, Markdown, Typst, Org): which keys it cites.

Used for "find references" of a paper. Files are re-read only when their mtime changes; the
editor's open buffers take precedence (the caller passes them in). A LaTeX draft is read with
the citation commands its project defines (``\\newcommand{\\longcite}[1]{\\fullcite{#1}}`` in
the preamble of the thesis a chapter belongs to): see :mod:`paperlens.core.project`.
"""
from __future__ import annotations

import os
import threading
from pathlib import Path
from typing import Iterable, Optional

from paperlens.core import citations
from paperlens.core.corpus import SKIP_DIRS
from paperlens.core.models import CitationKey
from paperlens.core.project import ProjectIndex

DRAFT_SUFFIXES = {".tex", ".ltx", ".md", ".markdown", ".qmd", ".rmd", ".typ", ".org"}
MAX_DRAFT_BYTES = 5 * 1024 * 1024


class DraftIndex:
    def __init__(self, folders: Iterable[str]):
        self.folders = [Path(f) for f in folders]
        # the LaTeX projects of drafts (and of open documents: the language server shares it)
        self.projects = ProjectIndex(str(f) for f in self.folders)
        # path -> (mtime, text); path -> its keys, kept across edits (an edit of an open
        # draft rescans only around the change)
        self._texts: dict[str, tuple[int, str]] = {}
        self._scans: dict[str, citations.CitationScan] = {}
        self._lock = threading.Lock()          # requests may read the drafts from two threads

    def _files(self):
        for folder in self.folders:
            for root, dirs, files in os.walk(folder, followlinks=False):
                dirs[:] = [d for d in dirs if d not in SKIP_DIRS and not d.startswith(".")]
                for name in files:
                    if Path(name).suffix.lower() in DRAFT_SUFFIXES:
                        yield os.path.join(root, name)

    def _text(self, path: str) -> Optional[str]:
        try:
            st = os.stat(path)
        except OSError:
            return None
        cached = self._texts.get(path)
        if cached is not None and cached[0] == st.st_mtime_ns:
            return cached[1]
        if st.st_size > MAX_DRAFT_BYTES:
            return None
        try:
            with open(path, encoding="utf-8", errors="replace") as f:
                text = f.read()
        except OSError:
            return None
        self._texts[path] = (st.st_mtime_ns, text)
        return text

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
            paths = set(self._files()) | set(open_docs)
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
        return out

    def bibliographies(self, open_docs: Optional[dict[str, str]] = None) -> dict[str, list[str]]:
        """{document: the .bib files it uses, in order}: each LaTeX root document with its
        project's bibliography, and each other draft that names .bib files itself."""
        open_docs = open_docs or {}
        out: dict[str, list[str]] = {}
        for path in sorted(set(self._files()) | set(open_docs)):
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
