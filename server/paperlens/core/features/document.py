"""What a feature knows of the document it answers for: a snapshot of its text, its language and,
for LaTeX, its project (the root document's bibliography, the preamble's citation commands);
and where a feature's answer points (:class:`Location`)."""
from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cached_property
from pathlib import Path
from typing import Callable, Optional

from paperlens.core import citations
from paperlens.core.models import CitationKey, Span
from paperlens.core.project import Project

MAX_DOCUMENT_CHARS = 20_000_000          # a larger document gets no answers

_BREAK = re.compile(r"\r\n?|\n")         # what ends a line, as LSP says


def document_language(language_id: Optional[str], path: Optional[Path]) -> Optional[str]:
    """The draft language (latex, markdown, typst, org) of a document: from the editor's
    language id, else from its file name; None for any other document (a paper's text)."""
    language = citations.language_for(language_id) if language_id else None
    if language is None and path is not None:
        language = citations.language_for(path.name)
    return language


@dataclass(frozen=True)
class Snapshot:
    """One document as a feature sees it, fixed for the request.

    ``language``: the draft language or None; ``project``: the LaTeX project the document
    belongs to (None when it is not LaTeX, or its project could not be resolved)."""
    uri: str
    text: str
    language: Optional[str] = None
    path: Optional[Path] = None
    version: Optional[int] = None
    project: Optional[Project] = field(default=None, repr=False)

    @property
    def macros(self) -> frozenset:
        """The user-defined citation commands of the document's LaTeX project."""
        return self.project.macros if self.project is not None else frozenset()

    @cached_property
    def bib_files(self) -> tuple[str, ...]:
        """The .bib files the document uses: for LaTeX those its project's root document names
        (in its whole tree, relative to the root's folder), else those it names itself,
        resolved against its folder (a name that cannot be a path is skipped)."""
        if not self.language:
            return ()
        if self.project is not None and self.project.bib_files:
            return tuple(self.project.bib_files)
        base = self.path.parent if self.path else Path.cwd()
        out = []
        for name in citations.bibliography_files(self.text, self.language):
            try:
                out.append(str((base / name).resolve()))
            except (OSError, ValueError, RuntimeError):   # a NUL in the name, a symlink loop
                continue
        return tuple(out)

    def citation_at(self, offset: int) -> Optional[CitationKey]:
        """The citation key at ``offset`` (in the document's own syntax), if any."""
        if self.language is None:
            return None
        return citations.citation_at(self.text, offset, self.language, self.macros)

    def line_of(self, offset: int) -> int:
        """The 0-based line ``offset`` is on (``\\n``, ``\\r\\n`` and ``\\r`` end lines)."""
        head = self.text[:max(offset, 0)]
        if "\r" not in head:
            return head.count("\n")
        return sum(1 for _ in _BREAK.finditer(head))


def make_snapshot(uri: str, text: str, language_id: Optional[str] = None, path: Optional[Path] = None,
                  version: Optional[int] = None,
                  project_of: Optional[Callable[[Path, str], Optional[Project]]] = None) -> Optional[Snapshot]:
    """The snapshot of a document (None when it is too large to answer for); ``project_of``
    resolves a LaTeX document's project (path, text) -> Project."""
    if not isinstance(text, str) or len(text) > MAX_DOCUMENT_CHARS:
        return None
    language = document_language(language_id, path)
    project = None
    if language == "latex" and path is not None and project_of is not None:
        project = project_of(path, text)
    return Snapshot(uri, text, language, path, version, project)


@dataclass(frozen=True)
class Location:
    """Where an answer points: whole lines of a file (``line``..``end_line``, 0-based), or a
    ``span`` of code points in ``text`` (the file's text as it was read). ``uri`` when the
    editor named the document (its own spelling of the URI), else derived from ``path``."""
    path: str
    line: int = 0
    end_line: Optional[int] = None
    span: Optional[Span] = None
    text: Optional[str] = field(default=None, repr=False, compare=False)
    uri: Optional[str] = None
