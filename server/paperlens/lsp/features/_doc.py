"""What every feature needs from an open document: its text, language, offset, bib files and,
for LaTeX, its project (root document, bibliography and user citation commands)."""
from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Optional

from lsprotocol import types

from paperlens.core import citations
from paperlens.core.project import Project
from paperlens.lsp import convert
from paperlens.lsp.session import uri_to_path

MAX_DOCUMENT_CHARS = 20_000_000

log = logging.getLogger(__name__)


def open_documents(ls) -> dict[str, str]:
    """{path: text} of the documents open in the editor (they win over the files on disk)."""
    out = {}
    for uri, doc in list(ls.workspace.text_documents.items()):
        path = uri_to_path(uri)
        if path is not None:
            out[str(path)] = doc.source
    return out


def latex_project(ls, path: Optional[Path], text: str,
                  open_docs: Optional[dict[str, str]] = None) -> Optional[Project]:
    """The LaTeX project of the document at ``path`` (None without a path or on trouble);
    ``open_docs``: the editor's documents (default: those open now)."""
    if path is None:
        return None
    try:
        return ls.session.drafts().projects.project(
            str(path), text, open_documents(ls) if open_docs is None else open_docs)
    except Exception:                     # never let a strange project break a request
        log.exception("could not resolve the LaTeX project of %s", path)
        return None


@dataclass
class DocContext:
    uri: str
    text: str
    language: Optional[str]
    offset: int
    path: Optional[Path]
    starts: list[int]
    ls: Any = field(default=None, repr=False, compare=False)
    encoding: str = convert.UTF16        # the position encoding negotiated with the client
    _project: Any = field(default=False, repr=False, compare=False)

    def project(self) -> Optional[Project]:
        """The LaTeX project of this document (resolved once per request)."""
        if self._project is False:
            self._project = latex_project(self.ls, self.path, self.text) \
                if self.language == "latex" and self.ls is not None else None
        return self._project

    def macros(self) -> frozenset:
        """User-defined citation commands of this document's project (LaTeX)."""
        project = self.project()
        return project.macros if project is not None else frozenset()

    def bib_files(self) -> list[str]:
        """The .bib files this document uses: for LaTeX those its project's root document
        names (in its whole tree, relative to the root's folder), else those it names
        itself, resolved against its folder."""
        if not self.language:
            return []
        project = self.project()
        if project is not None and project.bib_files:
            return list(project.bib_files)
        base = self.path.parent if self.path else Path.cwd()
        return [str((base / b).resolve()) for b in citations.bibliography_files(self.text, self.language)]

    def range(self, span) -> types.Range:
        return convert.span_to_range(self.text, span, self.starts, self.encoding)

    def position(self, offset: int) -> types.Position:
        return convert.offset_to_position(self.text, offset, self.starts, self.encoding)


def doc_context(ls, uri: str, position: types.Position) -> Optional[DocContext]:
    """The document at ``uri`` (open in the editor, else read from disk), or None."""
    try:
        doc = ls.workspace.get_text_document(uri)
        text = doc.source
        language_id = getattr(doc, "language_id", None)
    except Exception:
        return None
    if len(text) > MAX_DOCUMENT_CHARS:
        return None
    path = uri_to_path(uri)
    language = citations.language_for(language_id or "") if language_id else None
    if language is None and path is not None:
        language = citations.language_for(path.name)
    starts = convert.line_starts(text)
    encoding = convert.encoding_of(ls)
    offset = convert.position_to_offset(text, position, starts, encoding)
    return DocContext(uri, text, language, offset, path, starts, ls, encoding=encoding)


def citation_under_cursor(ls, params) -> Optional[tuple[DocContext, "citations.CitationKey"]]:
    """The document context and the citation key at the request's position, if any."""
    ctx = doc_context(ls, params.text_document.uri, params.position)
    if ctx is None or ctx.language is None:
        return None
    cite = citations.citation_at(ctx.text, ctx.offset, ctx.language, ctx.macros())
    return None if cite is None else (ctx, cite)
